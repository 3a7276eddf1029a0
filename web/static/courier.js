// Courier's page: offline queue for actions, position sharing, and the sign-in link's button.
//
// Without this file every action is a plain form post and the page works as is. With it, each
// action is first saved in localStorage (with its action id) and then sent; without signal it
// stays queued and is sent when the browser is back online. The server deduplicates by action
// id, so a replay after a lost response is harmless. No inline script: it passes the CSP.
(function () {
  "use strict";
  var KEY = "hakobu.courier.queue.v1";
  var DONE_KEY = "hakobu.courier.sent.v1";
  var box = document.getElementById("queue-box");
  var net = document.getElementById("net");
  var page = document.getElementById("courier-route");
  var sending = false;
  var lastPosition = null;
  var justSent = [];  // results of the flush before the last reload, shown once

  // The sign-in link: press the button for the courier (link previews do not run scripts).
  var auto = document.querySelector("form[data-auto-submit]");
  if (auto) { auto.submit(); return; }

  // Without signal the route must still open: the service worker keeps the pages (sw.js). Signed
  // out or with an expired link, every copy is deleted (the stops carry names and phones).
  var CACHE_PREFIX = "hakobu-courier-";
  if (document.querySelector("[data-forget]")) {
    if (window.caches) {
      window.caches.keys().then(function (keys) {
        keys.forEach(function (k) { if (k.indexOf(CACHE_PREFIX) === 0) { window.caches.delete(k); } });
      });
    }
    try { window.localStorage.removeItem("hakobu.courier.sent.v1"); } catch (e) { /* private mode */ }
  } else if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/courier/sw.js", { scope: "/courier/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var links = Array.prototype.map.call(document.querySelectorAll("a[data-keep]"), function (a) {
        return a.getAttribute("href");
      });
      if (links.length && registration.active) { registration.active.postMessage({ type: "keep", urls: links }); }
    }).catch(function () { /* no service worker: the page still works online */ });
  }

  function text(name) { return (box && box.dataset[name]) || ""; }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function load(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, list) { window.localStorage.setItem(key, JSON.stringify(list)); }

  function token() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function refreshToken() {
    var url = page ? page.dataset.tokenUrl : "/courier/token";
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        document.querySelectorAll("input[name=csrf_token]").forEach(function (i) { i.value = j.csrf_token; });
      });
  }

  function render() {
    if (!box) { return; }
    var queue = load(KEY);
    var sent = justSent;
    box.textContent = "";
    if (!navigator.onLine) { box.appendChild(document.createTextNode(text("offline"))); }
    function list(title, items) {
      if (!items.length) { return; }
      var p = document.createElement("p");
      p.textContent = title;
      box.appendChild(p);
      var ul = document.createElement("ul");
      items.forEach(function (t) { var li = document.createElement("li"); li.textContent = t; ul.appendChild(li); });
      box.appendChild(ul);
    }
    list(text("waiting"), queue.map(function (q) { return q.label; }));
    list(text("sent"), sent.filter(function (r) { return !r.placed; }).map(function (r) { return r.message; }));
    box.hidden = navigator.onLine && !queue.length && !sent.some(function (r) { return !r.placed; });
    if (net) { net.hidden = navigator.onLine; net.textContent = navigator.onLine ? "" : "offline"; }
  }

  function send(item, retried) {
    var body = new URLSearchParams();
    item.fields.forEach(function (kv) { if (kv[0] !== "csrf_token") { body.append(kv[0], kv[1]); } });
    body.append("csrf_token", token());
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (r) {
      if (r.status === 400 && !retried) {
        return refreshToken().then(function () { return send(item, true); });
      }
      if (r.status === 404) { return { message: item.label + ": " + text("notFound"), anchor: item.anchor, ok: false }; }
      return r.json().then(function (j) {
        return { message: item.label + ": " + (j.message || j.status), anchor: item.anchor,
                 ok: r.ok && (j.status === "ok" || j.status === "replayed") };
      }, function () {
        return { message: item.label + ": " + text("failed") + " (" + r.status + ")", anchor: item.anchor, ok: false };
      });
    }, function () { return { retry: true }; });  // no network: keep it queued
  }

  function flush() {
    render();
    if (sending || !navigator.onLine) { return; }
    var queue = load(KEY);
    if (!queue.length) { return; }
    sending = true;
    var item = queue[0];
    send(item, false).then(function (result) {
      sending = false;
      if (result.retry) { render(); return; }
      save(KEY, load(KEY).filter(function (q) { return q.id !== item.id; }));
      save(DONE_KEY, load(DONE_KEY).concat([result]));
      if (load(KEY).length) { flush(); return; }
      window.location.reload();  // show the new state; the results stay listed once
    });
  }

  function queueForm(form) {
    var idInput = form.querySelector("input[name=action_id]");
    if (form.dataset.used === idInput.value) { idInput.value = newId(); }  // a second, new action
    form.dataset.used = idInput.value;
    var fields = [];
    new FormData(form).forEach(function (v, k) { fields.push([k, String(v)]); });
    fields.push(["at", String(Date.now())]);
    if (lastPosition) { fields.push(["lon", String(lastPosition.lon)], ["lat", String(lastPosition.lat)]); }
    var card = form.closest(".stop") || form.closest(".card") || form.parentNode;
    var queue = load(KEY);
    queue.push({ id: idInput.value, url: form.action, fields: fields, label: form.dataset.label || "",
                 anchor: (card && card.id) || "" });
    save(KEY, queue);
    form.classList.add("queued");
    if (card && !card.querySelector(".queued-note")) {
      var note = document.createElement("p");
      note.className = "queued-note";
      note.textContent = text("queuedNote");
      card.appendChild(note);
    }
  }

  document.querySelectorAll("form.action").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      queueForm(form);
      flush();
    });
  });

  // Results of the last flush, sent before the reload: show them once, next to the stop they are
  // about (where the courier's eyes are), the others in the box at the top.
  justSent = load(DONE_KEY).map(function (r) { return typeof r === "string" ? { message: r } : r; });
  save(DONE_KEY, []);
  var firstPlaced = null;
  justSent.forEach(function (r) {
    var card = r.anchor ? document.getElementById(r.anchor) : null;
    if (!card) { return; }
    var note = document.createElement("p");
    note.className = "flash feedback " + (r.ok === false ? "error" : "ok");
    note.setAttribute("role", "status");
    note.textContent = r.message;
    var head = card.querySelector(".stop-head, h1");
    if (head && head.nextSibling) { card.insertBefore(note, head.nextSibling); } else { card.appendChild(note); }
    r.placed = true;
    firstPlaced = firstPlaced || note;
  });
  if (firstPlaced) { firstPlaced.scrollIntoView({ block: "center" }); }
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  window.setInterval(flush, 15000);
  flush();

  // Position: only while the route is under way, every 30-60 s, never queued.
  if (page && page.dataset.active === "1" && navigator.geolocation) {
    var every = Math.min(60, Math.max(30, parseInt(page.dataset.positionEvery, 10) || 45)) * 1000;
    var share = function () {
      if (!navigator.onLine) { return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        lastPosition = { lon: p.coords.longitude, lat: p.coords.latitude };
        fetch(page.dataset.positionUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token() },
          body: JSON.stringify({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy }),
        }).then(function (r) { if (r.status === 400) { refreshToken(); } }, function () {});
      }, function () {}, { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
    };
    share();
    window.setInterval(share, every);
  }
}());
