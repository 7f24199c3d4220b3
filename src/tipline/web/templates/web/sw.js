// Tipline service worker: keeps public guidance readable offline. Nothing else.
//
// What it caches: static assets, the offline page, the emergency numbers and the guidance
// pages (/<lang>/help/…, not the assistant, whose address holds the reporter's answers), and
// only responses the server did not mark "no-store". What it never touches: any POST (a
// report, a follow-up message), the follow-up thread, the evidence locker, the console, the API.
// An unfinished report lives only in the page's memory, never in this cache or any storage.
// HTML is network-first (fresh when online), with the saved copy or the offline page as fallback.
"use strict";
const VERSION = "tipline-v{{ version }}";
const PRECACHE = {{ precache|safe }};
const LANGUAGES = {{ languages|safe }};
const STATIC = {{ static_prefix|safe }};

function cacheablePath(path) {
  if (path.startsWith(STATIC)) return true;
  const parts = path.split("/");
  if (!LANGUAGES.includes(parts[1])) return false;
  const rest = "/" + parts.slice(2).join("/");
  if (rest === "/offline/" || rest === "/emergency/") return true;
  return rest.startsWith("/help/") && !rest.startsWith("/help/assistant/");
}

function storable(response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) return false;
  return !(response.headers.get("Cache-Control") || "").toLowerCase().includes("no-store");
}

function offlinePage(path) {
  const lang = LANGUAGES.includes(path.split("/")[1]) ? path.split("/")[1] : LANGUAGES[0];
  return caches.match("/" + lang + "/offline/");
}

async function networkFirst(event, cacheable) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (cacheable && storable(response)) {
      const copy = response.clone();
      event.waitUntil(caches.open(VERSION).then((cache) => cache.put(request, copy)));
    }
    return response;
  } catch (error) {
    const saved = cacheable ? await caches.match(request) : undefined;
    if (saved) return saved;
    if (request.mode === "navigate") {
      const fallback = await offlinePage(new URL(request.url).pathname);
      if (fallback) return fallback;
    }
    throw error;
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(VERSION).then((cache) =>
      Promise.all(
        PRECACHE.map((url) =>
          fetch(url, { cache: "no-cache" })
            .then((response) => (storable(response) ? cache.put(url, response) : undefined))
            .catch(() => undefined),
        ),
      ),
    ).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("tipline-") && key !== VERSION).map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/console/") || url.pathname.startsWith("/api/")) return;
  const cacheable = cacheablePath(url.pathname);
  if (request.mode === "navigate" || cacheable) {
    event.respondWith(networkFirst(event, cacheable));
  }
});
