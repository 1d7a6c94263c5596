(function () {
  "use strict";
  var level = document.getElementById("filter-level");
  var status = document.getElementById("filter-status");
  var check = document.getElementById("filter-check");
  var counter = document.getElementById("filter-count");
  function all(selector) {
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }
  var rows = all("#matrix tbody tr[data-check-id]");
  var sections = all("#failures .check-failures, #failing-checks .failing-check");
  function wanted(node, withStatus) {
    return (!level.value || node.getAttribute("data-level") === level.value) &&
      (!check.value || node.getAttribute("data-check-id") === check.value) &&
      (!withStatus || !status.value || node.getAttribute("data-status") === status.value);
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = wanted(row, true);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    sections.forEach(function (section) { section.hidden = !wanted(section, false); });
    counter.textContent = shown + " of " + rows.length + " checks shown";
  }
  [level, status, check].forEach(function (select) { select.addEventListener("change", apply); });
  document.getElementById("filters").hidden = false;
  apply();
})();
