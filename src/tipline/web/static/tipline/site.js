// Progressive enhancement only: every page works without this file.
// Nothing here ever writes what a reporter types to any storage: an unfinished report lives
// only in the page's memory. The only things kept (sessionStorage, this tab only) are the
// neutral-title preference, a display choice, and for a moment during a quick exit, where to go.
(function () {
  "use strict";
  var NEUTRAL_KEY = "tipline.neutral";
  var body = document.body;
  var params = new URLSearchParams(window.location.search);

  function session(action, value) {
    // Private modes or disabled storage throw: the preference is then simply not kept.
    try {
      if (action === "get") return window.sessionStorage.getItem(NEUTRAL_KEY) === "1";
      if (action === "set") window.sessionStorage.setItem(NEUTRAL_KEY, "1");
      if (action === "clear") window.sessionStorage.removeItem(NEUTRAL_KEY);
    } catch (e) {}
    return false;
  }

  // Neutral tab title: the server honours ?neutral=1; this keeps it for the tab (see neutral.py).
  if (params.get("neutral") === "1") session("set");
  if (params.get("neutral") === "0") session("clear");
  var neutral = params.get("neutral") === "1" || (params.get("neutral") !== "0" && session("get"));
  if (neutral && params.get("neutral") !== "1") {
    document.title = body.getAttribute("data-neutral-title") || "";
    var icon = document.querySelector("link[data-icon]");
    if (icon) icon.href = body.getAttribute("data-neutral-icon");
    var toggle = document.querySelector("[data-neutral-toggle]");
    if (toggle) {
      var off = new URL(toggle.href);
      off.searchParams.set("neutral", "0");
      toggle.href = off.href;
      toggle.textContent = toggle.getAttribute("data-off-label");
    }
  }

  // Quick exit: the neutral site replaces this page *and* its history entry, so "Back" does not
  // return here; Escape pressed twice does the same. The tab's preference is forgotten too.
  // Inside the evidence locker the quick exit is a form (locker/_quick_exit.html): its session
  // token is sent as a beacon so the server locks the locker before we leave.
  var LEAVING_KEY = "tipline.leaving";
  var exit = document.querySelector("[data-quick-exit]");
  var exitUrl = exit ? exit.getAttribute("data-exit-url") || exit.href : "";
  function blank() {
    try { document.title = ""; document.body.innerHTML = ""; } catch (e) {}
  }
  function ignore() {}
  // A visit that posted a form (a report, the locker) left entries browsers do not let us
  // replace: the form page, the answer. Then we go back to the visit's first page (Navigation
  // API), which notes in sessionStorage that it must leave at once: it becomes the site's home
  // page and opens the neutral site after itself, which drops every later entry for good. So
  // "Back" after a quick exit never shows a form, a receipt or the locker.
  function away(url) {
    var nav = window.navigation;
    var entries = [];
    try { entries = nav && nav.currentEntry ? nav.entries() : []; } catch (e) {}
    if (entries.length > 1 && entries[0].key !== nav.currentEntry.key) {
      try {
        window.sessionStorage.setItem(LEAVING_KEY, url);
        var result = nav.traverseTo(entries[0].key);
        result.committed.catch(ignore);
        result.finished.catch(ignore);
        return;
      } catch (e) {}
    }
    window.location.replace(url);
  }
  function leave() {
    session("clear");
    if (exit.tagName === "FORM") {
      try {
        var data = new FormData(exit);
        data.append("beacon", "1");
        navigator.sendBeacon(exit.action, data);
      } catch (e) {}
    }
    blank();
    away(exitUrl);
  }
  function continueLeaving() {
    var url = null;
    try {
      url = window.sessionStorage.getItem(LEAVING_KEY);
      window.sessionStorage.removeItem(LEAVING_KEY);
    } catch (e) {}
    if (!url) return false;
    blank();
    try { window.history.replaceState(null, "", "/" + (document.documentElement.lang || "") + "/"); } catch (e) {}
    // Opened only once the page has loaded: a navigation started earlier would replace this
    // entry and keep the later ones, instead of dropping them.
    var go = function () { window.setTimeout(function () { window.location.assign(url); }, 0); };
    if (document.readyState === "complete") go(); else window.addEventListener("load", go);
    return true;
  }
  if (continueLeaving()) return;
  // A locker page restored from the back/forward cache would show what it showed before the
  // locker was locked: show nothing and ask the server again (it answers "open your locker").
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted || continueLeaving()) return;
    if (document.querySelector("[data-forget-on-restore]")) { blank(); window.location.reload(); }
  });
  if (exit) {
    exit.addEventListener(exit.tagName === "FORM" ? "submit" : "click", function (ev) { ev.preventDefault(); leave(); });
    var last = 0;
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") return;
      var now = Date.now();
      if (now - last < 800) leave();
      last = now;
    });
  }

  // Opening a locker leads to a page holding only a "Continue" button (locker/continue.html):
  // press it. Sent before the page has finished loading, the form replaces that page's entry.
  var onward = document.querySelector("form[data-continue]");
  if (onward) onward.submit();

  // Leave no trace in the tab's history: moving between our pages by link replaces the current
  // entry instead of adding one, so a whole visit is one entry and the quick exit removes it.
  // (Pages that answer a form post still add an entry: browsers allow no other way to post.)
  document.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var link = ev.target instanceof Element ? ev.target.closest("a[href]") : null;
    if (!link || link === exit || link.target || link.hasAttribute("download")) return;
    if (link.origin !== window.location.origin || link.pathname.indexOf("/console/") === 0) return;
    if (link.hash && link.pathname === window.location.pathname && link.search === window.location.search) return;
    var url = new URL(link.href);
    if (neutral && !url.searchParams.has("neutral")) url.searchParams.set("neutral", "1");
    ev.preventDefault();
    window.location.replace(url.href);
  });

  // Contact details: open the section when the reporter chooses to be contacted.
  var details = document.querySelector(".contact-details");
  document.querySelectorAll("input[name=contact_choice]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (details && radio.checked) details.open = radio.value === "contact"; });
  });
  // Sentences written by the server with %(name)s placeholders, filled in here.
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }
  function describedBy(field, id) {
    var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (ids.indexOf(id) < 0) field.setAttribute("aria-describedby", ids.concat(id).join(" "));
  }

  // No word is cut: text fields carry their limit as data-maxlength, never the HTML maxlength
  // (which cuts pasted text without a word). A counter says how close the text is; past the
  // limit it says so, and the server, which checks again, sends the form back with the text.
  var counterText = body.getAttribute("data-counter") || "";
  var counterOver = body.getAttribute("data-counter-over") || "";
  document.querySelectorAll("[data-maxlength]").forEach(function (field) {
    var max = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!max || !field.id) return;
    var counter = document.createElement("p");
    counter.className = "counter";
    counter.id = field.id + "_counter";
    field.insertAdjacentElement("afterend", counter);
    describedBy(field, counter.id);
    // A free-text box shows its counter from the start; other fields near their limit.
    var always = field.getAttribute("data-count") === "always";
    var flagged = field.getAttribute("aria-invalid") === "true";  // by the server
    function update() {
      var count = Array.from(field.value).length;  // characters, as the server counts them
      var over = count > max;
      counter.hidden = !over && !always && count < max * 0.8;
      counter.classList.toggle("over", over);
      if (over || flagged) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
      counter.setAttribute("aria-live", over ? "polite" : "off");
      counter.textContent = over
        ? fill(counterOver, { over: (count - max).toLocaleString() })
        : fill(counterText, { count: count.toLocaleString(), max: max.toLocaleString() });
    }
    field.addEventListener("input", update);
    update();
  });

  // Files are checked before anything is sent: how many, how large, what type, with the limits
  // and sentences the server put on the input. A file that would be refused is never uploaded
  // (over Tor a large upload takes minutes); the server checks again either way.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
    var accept = (input.getAttribute("accept") || "").toLowerCase().split(",");
    var wrapper = input.closest(".field");
    var list = document.createElement("ul");
    list.className = "errorlist file-check";
    list.id = input.id + "_check";
    list.hidden = true;
    input.insertAdjacentElement("beforebegin", list);
    describedBy(input, list.id);
    function accepted(file) {
      var dot = file.name.lastIndexOf(".");
      var ext = dot > 0 ? file.name.slice(dot).toLowerCase() : "";
      var type = (file.type || "").toLowerCase();
      if (!ext && !type) return true;  // nothing to judge by: the server sniffs the bytes
      return (ext && accept.indexOf(ext) >= 0) || (type && accept.indexOf(type) >= 0);
    }
    function problems() {
      var files = Array.prototype.slice.call(input.files || []);
      var found = [];
      if (files.length > maxFiles) {
        found.push(fill(input.getAttribute("data-too-many") || "", { count: files.length, max: maxFiles }));
      }
      files.forEach(function (file) {
        if (file.size > maxBytes) {
          found.push(fill(input.getAttribute("data-too-large") || "", { name: file.name, mb: input.getAttribute("data-mb") }));
        } else if (!accepted(file)) {
          found.push(fill(input.getAttribute("data-wrong-type") || "", { name: file.name }));
        }
      });
      return found;
    }
    function show() {
      var found = problems();
      list.textContent = "";
      found.forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      list.hidden = found.length === 0;
      if (found.length) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (wrapper) wrapper.classList.toggle("file-refused", found.length > 0);
      return found.length === 0;
    }
    input.addEventListener("change", show);
    if (input.form) {
      input.form.addEventListener("submit", function (ev) {
        if (!show()) {
          ev.preventDefault();
          input.focus();
        }
      });
    }
  });

  // Move focus to the error summary so screen readers announce it.
  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();

  // Installable app: the service worker keeps guidance readable offline (see /sw.js).
  var worker = body.getAttribute("data-sw");
  if (worker && "serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(worker, { scope: "/" }).catch(function () {});
    });
  }
})();
