/* Keyboard shortcuts for the analyst's daily loop (issue 15): n next case, c claim, r reveal,
   l classify, p propose, ? this list.

   Every shortcut leads to a real link or button that is also reachable with Tab, so nothing
   here is the only way to do anything. Keys are ignored while someone types in a field, with a
   modifier held, or while the list is open (Esc closes it; the dialog is the browser's own, which
   returns focus where it was). "Reveal" moves focus to the next Reveal button rather than pressing
   it: a reveal shows evidence, so it takes a deliberate Enter. Claiming is one press: it only
   takes the report. aria-keyshortcuts is set on each target so screen readers announce the key. */
(function () {
  "use strict";
  var dialog = document.getElementById("shortcuts-help");
  var status = document.getElementById("shortcut-status");
  var opener = document.querySelector('[data-action="shortcuts"]');
  if (!dialog || typeof dialog.showModal !== "function") return;

  function all(selector) {
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  // Targets. The reveal control is marked data-action="reveal"; the current reveal forms are
  // matched by their address too, so both versions of the files section work.
  var find = {
    n: function () {
      return all('[data-action="next-case"]');
    },
    c: function () {
      return all('[data-action="claim"], .case-summary form[action$="/claim/"] button[type="submit"]');
    },
    r: function () {
      var found = all('[data-action="reveal"], form[action*="/reveal"] button[type="submit"]');
      return found.filter(function (el, i) {
        return found.indexOf(el) === i && !el.disabled;
      });
    },
    l: function () {
      return all("#classification-form select, #classification-form input:not([type=hidden])").slice(0, 1);
    },
    p: function () {
      return all("#decision-form select, #decision-form input:not([type=hidden])").slice(0, 1);
    }
  };

  function announce(message) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = message;
    }, 50);
  }

  function typing(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var type = (el.getAttribute("type") || "text").toLowerCase();
    return ["button", "submit", "reset", "checkbox", "radio", "image", "hidden"].indexOf(type) === -1;
  }

  function show(el) {
    el.scrollIntoView({ block: "center" });
    el.focus();
  }

  function act(key) {
    var targets = find[key]();
    if (!targets.length) {
      announce(status.getAttribute("data-missing"));
      return;
    }
    if (key === "n" || key === "c") {
      targets[0].click();
    } else if (key === "r") {
      // The next one after the focused element, wrapping round.
      var at = targets.indexOf(document.activeElement);
      show(targets[(at + 1) % targets.length]);
    } else {
      show(targets[0]);
    }
  }

  // Announce the keys on the targets themselves.
  ["n", "c", "r", "l", "p"].forEach(function (key) {
    find[key]().forEach(function (el) {
      el.setAttribute("aria-keyshortcuts", key);
    });
  });

  if (opener) {
    opener.hidden = false;
    opener.addEventListener("click", function () {
      dialog.showModal();
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (dialog.open || typing(event.target)) return;
    var key = event.key;
    if (key === "?") {
      event.preventDefault();
      dialog.showModal();
      return;
    }
    if (Object.prototype.hasOwnProperty.call(find, key)) {
      event.preventDefault();
      act(key);
    }
  });
})();
