/* Reply templates, filled in place (issue 15). Without JavaScript the "Use template" button
   posts the form and the page comes back with the same text in the message box; this only saves
   the round trip. Same rule as the server: nothing typed is lost, the template goes after it. */
(function () {
  "use strict";
  var data = document.getElementById("reply-texts");
  var button = document.querySelector('[data-action="use-template"]');
  if (!data || !button) return;
  var texts;
  try {
    texts = JSON.parse(data.textContent);
  } catch (e) {
    return; // the server path still works
  }
  var form = button.form;
  var template = form.elements.namedItem("template");
  var language = form.elements.namedItem("language");
  var body = form.elements.namedItem("body");
  var status = document.getElementById("reply-status");
  button.addEventListener("click", function (event) {
    var byLanguage = texts[template.value];
    var text = byLanguage && byLanguage[language.value];
    if (!text) return; // let the server answer (and explain)
    event.preventDefault();
    var typed = body.value.replace(/\s+$/, "");
    body.value = typed ? typed + "\n\n" + text : text;
    body.rows = Math.max(body.rows, 12);
    body.focus();
    if (status) {
      // Cleared first so the same message is announced again on a second use.
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = status.getAttribute("data-inserted");
      }, 50);
    }
  });
})();
