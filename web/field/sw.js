/* The officers' app offline: its shell (these files) is cached on the first visit and served
   from the cache at once, refreshed in the background whenever the network answers (so an
   update reaches the phone on the next start). The API (/v1/) and the sign-in are never cached
   here: the worklist, pre-fill and outbox live in the app's IndexedDB. */
"use strict";

const CACHE = "census-field-shell-v1";
const SHELL = ["./", "field.js", "field.css", "config.json", "../css/app.css", "../js/messages.js", "../js/rules.js",
  "../js/ui.js", "../js/household-form.js", "../js/staff-auth.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("census-field-") && n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/v1/") || url.pathname.startsWith("/local-auth/")) return;
  // The app's page, whatever its query (?code=&state= after sign-in), is the cached shell.
  const key = request.mode === "navigate" && url.pathname === new URL("./", self.location).pathname ? "./" : request;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const cached = await cache.match(key, { ignoreSearch: request.mode === "navigate" });
    const fresh = fetch(request).then((response) => {
      if (response.ok && response.type === "basic") cache.put(key, response.clone());
      return response;
    }).catch(() => null);
    if (cached) { event.waitUntil(fresh); return cached; }
    return (await fresh) || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  }));
});
