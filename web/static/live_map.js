// Dashboard live map: poll the JSON endpoint and move the couriers, the drones in the air
// (estimated positions) and the order markers, and redraw the order queue, without a reload.
// Like board.js it builds the DOM with textContent only and needs no inline script (CSP-clean).
// The folium map is the global `map_<id>` its own inline script declares; the panel names it in
// data-map-id. Order markers carry their number in feature.properties.key; courier markers have
// the Leaflet className "hakobu-courier" (web/maps.py).
(function () {
  "use strict";
  var panel = document.getElementById("map-panel");
  if (!panel || !window.L) { return; }
  var map = window[panel.dataset.mapId];
  if (!map) { return; }
  var every = Math.max(3, parseInt(panel.dataset.pollSeconds, 10) || 10) * 1000;
  var queue = document.getElementById("order-queue");
  var count = document.getElementById("order-count");
  var fresh = document.getElementById("new-orders");
  var stamp = document.getElementById("live-updated");
  var couriers = L.layerGroup().addTo(map);
  var drones = L.layerGroup().addTo(map);
  var orderHome = null;  // where markers of new orders go: the page's point cluster, if any
  var started = false;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // Order markers of the page by number, and the group each belongs to.
  function orderMarkers() {
    var found = {};
    function keep(marker, group) {
      var key = marker.feature && marker.feature.properties && marker.feature.properties.key;
      if (key && !found[key]) { found[key] = { marker: marker, group: group }; }
    }
    var clusters = [];
    map.eachLayer(function (layer) {
      if (L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup) { clusters.push(layer); }
    });
    // A cluster shows some of its markers on the map itself: they belong to the cluster.
    clusters.forEach(function (cluster) {
      cluster.getLayers().forEach(function (m) { keep(m, cluster); });
    });
    map.eachLayer(function (layer) { keep(layer, map); });
    if (!orderHome && clusters.length) { orderHome = clusters[0]; }
    return found;
  }

  // The first poll takes the couriers over from the markers the page was rendered with.
  function takeOver() {
    var old = [];
    map.eachLayer(function (layer) {
      if (layer.options && layer.options.className === "hakobu-courier" && !couriers.hasLayer(layer)) {
        old.push(layer);
      }
    });
    old.forEach(function (layer) { map.removeLayer(layer); });
    started = true;
  }

  // Leaflet puts a string tooltip into innerHTML: labels (item names typed by residents) go in as text.
  function textNode(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }

  function drawCouriers(list) {
    couriers.clearLayers();
    list.forEach(function (c) {
      L.circleMarker([c.lat, c.lon], { radius: 7, color: "#000", weight: 2, fill: true, fillColor: "#ffc107",
                                       fillOpacity: 1, className: "hakobu-courier" })
        .bindTooltip(textNode(c.code), { sticky: true }).addTo(couriers);
    });
  }

  function drawDrones(list) {
    drones.clearLayers();
    list.forEach(function (d) {
      // Dashed and half-filled: a position the plan gives, not one the drone reported.
      L.circleMarker([d.lat, d.lon], { radius: 8, color: "#6f42c1", weight: 2, dashArray: "3 3", fill: true,
                                       fillColor: "#6f42c1", fillOpacity: 0.35, className: "hakobu-drone" })
        .bindTooltip(textNode(d.tooltip), { sticky: true }).addTo(drones);
    });
  }

  function drawOrderMarkers(orders) {
    var present = orderMarkers();
    var open = {};
    orders.forEach(function (o) {
      var key = String(o.number);
      open[key] = true;
      var known = present[key];
      if (known) {
        known.marker.setStyle({ fillColor: o.colour });
        known.marker.feature.properties.colour = o.colour;
        known.marker.feature.properties.state = o.state;
        return;
      }
      var marker = L.circleMarker([o.lat, o.lon], { radius: 5, weight: 1, color: "#333", fill: true,
                                                    fillColor: o.colour, fillOpacity: 0.9 });
      marker.feature = { type: "Feature", properties: { key: key, label: o.label, colour: o.colour,
                                                        state: o.state } };
      marker.bindTooltip(textNode(o.label), { sticky: true });
      (orderHome || map).addLayer(marker);
    });
    Object.keys(present).forEach(function (key) {  // delivered or cancelled: off the map of open orders
      if (!open[key]) { present[key].group.removeLayer(present[key].marker); }
    });
  }

  // A person the operator acts on, as templates/_person.html draws it: name, code, call link.
  function person(name, code, phone, title) {
    var span = el("span", { "class": "person" });
    if (name) { span.appendChild(el("strong", { "class": "name" }, name)); }
    if (code) { span.appendChild(document.createTextNode(" ")); span.appendChild(el("small", { "class": "code" }, code)); }
    if (phone) {
      span.appendChild(document.createTextNode(" "));
      span.appendChild(el("a", { "class": "tel", "href": "tel:" + phone, "title": title || "" }, "☎ " + phone));
    }
    return span;
  }

  function drawQueue(data) {
    if (!queue) { return; }
    var body = el("tbody");
    data.orders.forEach(function (o) {
      var tr = el("tr", { "data-order": o.number });
      tr.appendChild(el("td", {}, o.number));
      var who = el("td");
      who.appendChild(person(o.resident_name, o.resident_code, o.resident_phone, o.call_title));
      tr.appendChild(who);
      tr.appendChild(el("td", {}, o.items));
      tr.appendChild(el("td", { "data-channel": o.channel }, o.channel_label));
      var state = el("td");
      state.appendChild(el("span", { "class": "state " + o.state }, o.state_label));
      tr.appendChild(state);
      tr.appendChild(el("td", {}, o.window));
      body.appendChild(tr);
    });
    if (!data.orders.length) {
      var empty = el("tr", { "class": "empty" });
      empty.appendChild(el("td", { "colspan": "6" }, panel.dataset.labelEmpty));
      body.appendChild(empty);
    }
    queue.replaceChild(body, queue.tBodies[0]);
    if (count) { count.textContent = "(" + data.orders.length + ")"; }
    if (fresh) {
      fresh.hidden = !data.new_orders;
      fresh.textContent = data.new_orders ? data.new_label : "";
      fresh.dataset.count = String(data.new_orders);
    }
  }

  function draw(data) {
    if (!started) { takeOver(); }
    drawCouriers(data.couriers);
    drawDrones(data.drones);
    drawOrderMarkers(data.orders);
    drawQueue(data);
    if (stamp) { stamp.textContent = panel.dataset.labelUpdated + " " + data.generated_at; }
    panel.dataset.polls = String((parseInt(panel.dataset.polls, 10) || 0) + 1);
  }

  function poll() {
    fetch(panel.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function () { if (stamp) { stamp.textContent = panel.dataset.labelOffline; } })
      .then(function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
}());
