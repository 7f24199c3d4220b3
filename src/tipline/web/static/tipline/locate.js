// Opt-in location for a child in danger (the report form of that category only).
// Nothing happens without the reporter pressing the button: the position is written into the
// "Where is the child now" field as text the reporter sees and can edit or delete before
// sending, and the country list is preselected when the position falls in exactly one known
// country. Nothing is sent, stored or looked up elsewhere: the country boxes come from this site.
// The server allows geolocation (Permissions-Policy) on this page only; without JavaScript
// there is no button and the form works as before.
(function () {
  "use strict";
  var field = document.getElementById("id_child_location");
  var strings = document.getElementById("locate-strings");
  if (!field || !strings || !("geolocation" in navigator)) return;

  var button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary locate";
  button.textContent = strings.getAttribute("data-label");
  var status = document.createElement("p");
  status.className = "helptext";
  status.setAttribute("role", "status");
  field.insertAdjacentElement("afterend", status);
  field.insertAdjacentElement("afterend", button);

  function inside(box, lat, lon) {
    return lat >= box[0] && lat <= box[1] && lon >= box[2] && lon <= box[3];
  }

  function preselect(lat, lon) {
    var select = document.getElementById("id_country");
    if (!select || select.value) return; // never overwrite the reporter's own choice
    fetch(strings.getAttribute("data-boxes"), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var found = Object.keys(data.boxes).filter(function (code) {
          return data.boxes[code].some(function (box) { return inside(box, lat, lon); });
        });
        if (found.length !== 1) return;
        var option = select.querySelector('option[value="' + found[0] + '"]');
        if (!option) return;
        select.value = found[0];
        status.textContent += " " + strings.getAttribute("data-country");
      })
      .catch(function () {});
  }

  button.addEventListener("click", function () {
    status.textContent = strings.getAttribute("data-wait");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var c = position.coords;
        var text = c.latitude.toFixed(5) + ", " + c.longitude.toFixed(5) +
          " (± " + Math.round(c.accuracy) + " m)";
        field.value = field.value ? field.value + " — " + text : text;
        status.textContent = strings.getAttribute("data-done");
        field.focus();
        preselect(c.latitude, c.longitude);
      },
      function () {
        status.textContent = strings.getAttribute("data-failed");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
    );
  });
})();
