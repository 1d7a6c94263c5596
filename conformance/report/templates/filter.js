(function () {
  "use strict";
  var level = document.getElementById("filter-level");
  var status = document.getElementById("filter-status");
  var counter = document.getElementById("filter-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr[data-check-id]"));
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!level.value || row.getAttribute("data-level") === level.value) &&
        (!status.value || row.getAttribute("data-status") === status.value);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    counter.textContent = shown + " of " + rows.length + " checks shown";
  }
  level.addEventListener("change", apply);
  status.addEventListener("change", apply);
  document.getElementById("filters").hidden = false;
  apply();
})();
