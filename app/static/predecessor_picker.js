// The milestone page's predecessor picker: as the user types, ask the server for at most
// 20 matching milestones of the same plan and offer them in the input's datalist. The
// form posts the text (e.g. "#123 标题"), which the server resolves and checks again.
(function () {
  "use strict";
  var input = document.querySelector("input[data-src][list]");
  if (!input) { return; }
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  var last = null;

  function fill(items) {
    list.textContent = "";
    items.forEach(function (it) {
      var opt = document.createElement("option");
      opt.value = it.label;
      list.appendChild(opt);
    });
  }

  function ask() {
    var q = input.value.trim();
    if (q === last) { return; }
    last = q;
    var url = input.getAttribute("data-src") + "?q=" + encodeURIComponent(q);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) { if (q === last) { fill(items); } })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("focus", ask);
})();
