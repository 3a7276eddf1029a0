// Handoff board: poll the JSON endpoint and redraw the table without reloading the page.
// Builds the DOM with textContent only (no HTML from the server is interpreted), so it needs no
// inline script and passes the console's Content-Security-Policy.
(function () {
  "use strict";
  var table = document.getElementById("board");
  if (!table) { return; }
  var url = table.dataset.url;
  var every = Math.max(3, parseInt(table.dataset.pollSeconds, 10) || 10) * 1000;
  var stamp = document.getElementById("board-updated");
  var alertsBox = document.getElementById("board-alerts");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
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

  function badge(code, label) {
    return el("span", { "class": "exc", "data-exception": code }, label);
  }

  function row(p) {
    var tr = el("tr", { "data-order": p.number });
    if (p.exceptions.length) { tr.className = "exception"; }
    tr.appendChild(el("td", {}, p.number));
    var who = el("td");
    who.appendChild(person(p.resident_name, p.resident_code, p.resident_phone, p.call_title));
    tr.appendChild(who);
    var state = el("td");
    state.appendChild(el("span", { "class": "state " + p.state }, p.state_label));
    tr.appendChild(state);
    var exc = el("td");
    p.exceptions.forEach(function (code, i) { exc.appendChild(badge(code, p.exception_labels[i])); });
    tr.appendChild(exc);
    tr.appendChild(el("td", { "class": "holder" }, p.holder));
    tr.appendChild(el("td", {}, p.eta));
    var chainCell = el("td");
    var list = el("ol", { "class": "chain" });
    p.chain.forEach(function (h) {
      var li = el("li", {}, h.giver + " → " + h.taker + " ");
      li.appendChild(el("small", {}, h.proof + " · " + h.at));
      list.appendChild(li);
    });
    chainCell.appendChild(list);
    tr.appendChild(chainCell);
    return tr;
  }

  function drawAlerts(alerts) {
    while (alertsBox.firstChild) { alertsBox.removeChild(alertsBox.firstChild); }
    if (!alerts.length) { return; }
    alertsBox.appendChild(el("h2", {}, table.dataset.labelAlerts));
    var ul = el("ul", { "class": "alerts" });
    alerts.forEach(function (a) {
      var li = el("li", { "data-alert": a.kind });
      li.appendChild(el("span", { "class": "exc" }, a.label));
      li.appendChild(document.createTextNode((a.number ? " #" + a.number : "") + " "));
      if (a.resident_name || a.resident_code) {
        li.appendChild(person(a.resident_name, a.resident_code, a.resident_phone, a.call_title));
      }
      li.appendChild(document.createTextNode(" " + a.text + " "));
      if (a.volunteer) {
        var from = el("small", { "class": "from" }, a.from_label + " ");
        from.appendChild(person(a.volunteer, "", a.volunteer_phone, a.call_volunteer_title));
        li.appendChild(from);
        li.appendChild(document.createTextNode(" "));
      }
      li.appendChild(el("small", {}, a.at));
      if (a.ack_url && table.dataset.csrf) {  // a plain form: acknowledging works without JS too
        var form = el("form", { "method": "post", "class": "ack", "action": a.ack_url });
        form.appendChild(el("input", { "type": "hidden", "name": "csrf_token", "value": table.dataset.csrf }));
        form.appendChild(el("button", { "type": "submit" }, table.dataset.labelAck));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(form);
      }
      ul.appendChild(li);
    });
    alertsBox.appendChild(ul);
  }

  function draw(data) {
    var body = el("tbody");
    data.parcels.forEach(function (p) { body.appendChild(row(p)); });
    if (!data.parcels.length) {
      var empty = el("tr", { "class": "empty" });
      empty.appendChild(el("td", { "colspan": "7" }, table.dataset.labelEmpty));
      body.appendChild(empty);
    }
    table.replaceChild(body, table.tBodies[0]);
    drawAlerts(data.alerts);
    stamp.textContent = table.dataset.labelUpdated + " " + data.generated_at;
    table.dataset.polls = String((parseInt(table.dataset.polls, 10) || 0) + 1);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function () { stamp.textContent = table.dataset.labelOffline; })
      .then(function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
}());
