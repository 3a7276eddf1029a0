// The courier page's service worker (served as /courier/sw.js, so its scope is /courier/).
//
// A courier in a valley loses the signal; reloading the route must still show the route, its
// stops and the actions queued on the phone (courier.js keeps those in localStorage). So:
//  - pages under /courier/ (GET) go to the network first and fall back to the last copy kept
//    here (the copy is refreshed on every successful load); a page never opened falls back to the
//    list of routes;
//  - the page's scripts, styles and map library (/static/) are served from the copy first and
//    refreshed in the background;
//  - POSTs (the actions) are never touched: courier.js queues them itself, and the server
//    deduplicates by action id;
//  - signing out (or an expired link) deletes every copy (courier.js sends "forget"): the stop
//    list holds residents' names and phones, so it stays on the phone only while signed in.
"use strict";
var CACHE = "hakobu-courier-v1";
var HOME = "/courier/";

self.addEventListener("install", function (event) {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("hakobu-courier-") === 0 && k !== CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(request, response) {
  if (response && response.ok && response.type === "basic") {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
  }
  return response;
}

function fromCopy(request, fallback) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: false }).then(function (hit) {
      if (hit) { return hit; }
      return fallback ? cache.match(fallback) : undefined;
    });
  }).then(function (hit) {
    return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    // The copy first (fast, and there without signal); refreshed in the background, so a new
    // version of a script is used from the next load on.
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) {
        var fresh = fetch(request).then(function (response) { return keep(request, response); },
                                        function () { return hit; });
        return hit || fresh;
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/courier/") !== 0 || url.pathname === "/courier/token") { return; }
  event.respondWith(fetch(request).then(function (response) {
    return keep(request, response);
  }, function () {
    return fromCopy(request, request.mode === "navigate" ? HOME : null);
  }));
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "forget") {
    event.waitUntil(caches.delete(CACHE));
  } else if (data.type === "keep" && Array.isArray(data.urls)) {
    // Keep the routes of the list too, so a route never opened with signal still opens without.
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (u) {
        return fetch(u, { credentials: "same-origin" }).then(function (r) {
          if (r.ok) { return cache.put(u, r); }
        }, function () {});
      }));
    }));
  }
});
