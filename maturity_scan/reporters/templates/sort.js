// Sortable tables, by mouse or keyboard: each header of a table.sortable holds a button
// (Enter or Space sorts); aria-sort on the header says the order. Cells sort by data-v.
document.querySelectorAll('table.sortable th button').forEach(function (b) {
  b.addEventListener('click', function () {
    var th = b.closest('th'), t = th.closest('table'), i = th.cellIndex;
    var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
    t.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir);
    var rows = Array.from(t.tBodies[0].rows);
    rows.sort(function (p, q) {
      var x = p.cells[i].dataset.v, y = q.cells[i].dataset.v;
      var n = parseFloat(x) - parseFloat(y), c = isNaN(n) ? x.localeCompare(y) : n;
      return dir === 'ascending' ? c : -c;
    });
    rows.forEach(function (r) { t.tBodies[0].appendChild(r); });
  });
});
