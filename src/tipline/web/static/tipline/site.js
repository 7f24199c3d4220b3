// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Quick exit: replace this page in history so "Back" does not return here; Escape twice too.
  function leave(url) { try { document.body.innerHTML = ""; } catch (e) {} window.location.replace(url); }
  var exit = document.querySelector("[data-quick-exit]");
  if (exit) {
    exit.addEventListener("click", function (ev) { ev.preventDefault(); leave(exit.href); });
    var last = 0;
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") return;
      var now = Date.now();
      if (now - last < 800) leave(exit.href);
      last = now;
    });
  }
  // Contact details: open the section when the reporter chooses to be contacted.
  var details = document.querySelector(".contact-details");
  document.querySelectorAll("input[name=contact_choice]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (details && radio.checked) details.open = radio.value === "contact"; });
  });
  // Move focus to the error summary so screen readers announce it.
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
