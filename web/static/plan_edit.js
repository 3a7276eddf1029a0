// Plan page: drag a delivery onto another stop (of the same or another courier) or onto a route's
// last row, and the page posts the plan's move form (the same move as the per-stop buttons, which
// work without JavaScript). HTML5 drag and drop, no library; no inline script (CSP).
(function () {
  "use strict";
  var form = document.getElementById("drag-move");
  if (!form) { return; }
  var dragged = null;

  function clearMarks() {
    document.querySelectorAll("tr.drop-before").forEach(function (row) { row.classList.remove("drop-before"); });
  }

  document.querySelectorAll('tr[draggable="true"]').forEach(function (row) {
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.dataset.orderId);
      row.classList.add("dragging");
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      clearMarks();
      dragged = null;
    });
  });

  document.querySelectorAll("tbody[data-vehicle]").forEach(function (body) {
    body.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var row = event.target.closest("tr");
      clearMarks();
      if (row && row !== dragged) { row.classList.add("drop-before"); }
    });
    body.addEventListener("drop", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      var target = event.target.closest("tr");
      var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-order-id]"));
      var at = target ? rows.indexOf(target) : rows.length;
      if (at < 0) { at = rows.length; }
      // The service takes the order off its route first: count the other orders' stops before.
      var before = rows.slice(0, at).filter(function (r) {
        return r.dataset.orderId && r.dataset.orderId !== dragged.dataset.orderId;
      }).length;
      form.elements.order_id.value = dragged.dataset.orderId;
      form.elements.vehicle.value = body.dataset.vehicle;
      form.elements.position.value = String(before + 1);  // the form counts from 1
      form.submit();
    });
  });
})();
