// The route sheet's print button (no inline script: it passes the Content-Security-Policy).
(function () {
  "use strict";
  var button = document.getElementById("print-sheet");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
}());
