// Plan tree (plans/plan.html): a closed node loads its inside when opened, and the
// pager inside a node replaces that node's body. Without JavaScript the links open
// the page focused on the node (?node=<id>), so nothing here is required.
(function () {
  "use strict";

  function load(body, url) {
    body.setAttribute("aria-busy", "true");
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.text();
      })
      .then(function (html) {
        body.innerHTML = html;
        body.removeAttribute("aria-busy");
      })
      .catch(function () {
        body.removeAttribute("aria-busy");
        var p = document.createElement("p");
        p.className = "flash error";
        p.textContent = "加载失败，请点击“展开此节点”重试。";
        body.insertBefore(p, body.firstChild);
      });
  }

  document.addEventListener("toggle", function (e) {
    var details = e.target;
    if (!details.matches || !details.matches("details.node[data-src]") || !details.open) { return; }
    var body = details.querySelector(":scope > .node-body");
    var url = details.getAttribute("data-src");
    details.removeAttribute("data-src");
    load(body, url);
  }, true);

  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-fragment]");
    if (!a) { return; }
    var body = a.closest(".node-body");
    if (!body) { return; }
    e.preventDefault();
    load(body, a.getAttribute("data-fragment")).then(function () {
      body.parentElement.scrollIntoView({ block: "start" });
    });
  });
})();
