// 星级测算: the what-if panel. Sends the overrides to /plans/<code>/stars/what-if
// (JSON, CSRF token from the page's meta tag) and shows the rescored result next
// to the stored one. Nothing is saved. No inline script or style (CSP: self only).
(function () {
  "use strict";

  var panel = document.getElementById("what-if");
  if (!panel) return;

  var url = panel.getAttribute("data-url");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var $ = function (id) { return document.getElementById(id); };
  var indicator = $("wi-indicator"), kind = $("wi-kind"), input = $("wi-value");
  var valuesTable = $("wi-values"), errorBox = $("wi-error"), stateLine = $("wi-state");
  var table = $("wi-table"), note = $("wi-baseline-note"), changedBox = $("wi-changed");

  var values = {};   // standard number -> input sent to the server
  var labels = {};   // standard number -> text shown in the list
  var seq = 0, timer = null;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function cnDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? Number(m[1]) + "年" + Number(m[2]) + "月" + Number(m[3]) + "日" : String(iso);
  }

  function pct(p) { return p === null || p === undefined ? "—" : (p * 100).toFixed(1) + "%"; }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function parseValue() {
    var raw = input.value.trim();
    if (!raw) throw new Error("请填写假设值。");
    if (kind.value === "level") {
      if (!/^[0-5]$/.test(raw)) throw new Error("等级应为 0 到 5 的整数。");
      return { level: Number(raw) };
    }
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw)) return Number(raw);
    if (raw.charAt(0) === "{") {
      try { return JSON.parse(raw); } catch (e) { throw new Error("JSON 格式有误：" + raw); }
    }
    throw new Error("请输入数字，或 JSON 对象（如 {\"coverage\": 90, \"intact\": 95}）。");
  }

  function describe(value) {
    if (typeof value === "object") {
      if ("level" in value && Object.keys(value).length === 1) return "等级 " + value.level;
      return JSON.stringify(value);
    }
    return String(value);
  }

  function syncKind() {
    var option = indicator.options[indicator.selectedIndex];
    var levelOnly = option && option.getAttribute("data-input") === "level-only";
    kind.value = levelOnly ? "level" : kind.value;
    kind.options[0].disabled = levelOnly;
    input.placeholder = kind.value === "level" ? "0 到 5 的整数" : "如 85，或 {\"coverage\": 90, \"intact\": 95}";
  }

  function renderValues() {
    var body = valuesTable.querySelector("tbody");
    body.textContent = "";
    var numbers = Object.keys(values).sort(function (a, b) { return a - b; });
    numbers.forEach(function (number) {
      var row = el("tr");
      row.appendChild(el("td", labels[number], "wrap"));
      row.appendChild(el("td", describe(values[number])));
      var cell = el("td");
      var remove = el("button", "移除", "small");
      remove.type = "button";
      remove.setAttribute("aria-label", "移除假设：" + labels[number]);
      remove.addEventListener("click", function () {
        delete values[number];
        renderValues();
        schedule();
      });
      cell.appendChild(remove);
      row.appendChild(cell);
      body.appendChild(row);
    });
    valuesTable.hidden = numbers.length === 0;
  }

  function forced() {
    var done = [], late = [];
    panel.querySelectorAll("select.wi-force").forEach(function (select) {
      var id = Number(select.getAttribute("data-milestone"));
      if (select.value === "done") done.push(id);
      if (select.value === "late") late.push(id);
    });
    return { done: done, late: late };
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(compute, 250);
  }

  function compute() {
    var f = forced();
    var body = { values: values, done: f.done, late: f.late };
    var any = Object.keys(values).length || f.done.length || f.late.length;
    showError("");
    if (!any) {
      seq += 1;
      table.hidden = true; note.hidden = true; changedBox.hidden = true;
      stateLine.textContent = "尚未设定假设：加入指标假设值或修改里程碑假设后自动计算。";
      stateLine.classList.remove("busy");
      return;
    }
    var mine = ++seq;
    stateLine.textContent = "计算中";
    stateLine.classList.add("busy");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        throw new Error(response.status === 400
          ? "请求被拒绝：页面可能已过期，请刷新页面后重试。"
          : "计算失败（HTTP " + response.status + "），请稍后重试。");
      }
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "计算失败（HTTP " + response.status + "）");
        return data;
      });
    }).then(function (data) {
      if (mine !== seq) return;
      stateLine.classList.remove("busy");
      render(data);
    }).catch(function (err) {
      if (mine !== seq) return;
      stateLine.classList.remove("busy");
      stateLine.textContent = "未能计算。";
      table.hidden = true; note.hidden = true; changedBox.hidden = true;
      showError(err.message);
    });
  }

  function rowsOf(s, targetStars) {
    if (!s) return null;
    var f = s.forecast;
    var rows = [
      ["当前得分", s.total, s.total],
      ["当前星级", s.stars + " 星", s.stars],
      ["考核日预计得分", f.expected_total.toFixed(1), f.expected_total],
      ["达到 " + targetStars + " 星及以上的概率", pct(f.p_target), f.p_target],
      ["最好情况", f.best_case.total + "（" + f.best_case.stars + " 星）", f.best_case.total],
      ["最坏情况", f.worst_case.total + "（" + f.worst_case.stars + " 星）", f.worst_case.total]
    ];
    f.probabilities.forEach(function (p, k) { rows.push(["考核日 " + k + " 星概率", pct(p), p]); });
    return rows;
  }

  function render(data) {
    var stored = rowsOf(data.stored, data.target_stars);
    var baseline = rowsOf(data.baseline, data.target_stars);
    var whatIf = rowsOf(data.what_if, data.target_stars);
    var showBaseline = !data.baseline_matches_stored;
    var body = table.querySelector("tbody");
    body.textContent = "";
    table.querySelector(".wi-baseline-col").hidden = !showBaseline;
    whatIf.forEach(function (row, i) {
      var tr = el("tr");
      tr.appendChild(el("th", row[0]));
      tr.appendChild(el("td", stored ? stored[i][1] : "—"));
      if (showBaseline) tr.appendChild(el("td", baseline[i][1]));
      var reference = showBaseline || !stored ? baseline[i][2] : stored[i][2];
      var diff = row[2] - reference;
      var cell = el("td", row[1], Math.abs(diff) < 1e-9 ? "" : (diff > 0 ? "up" : "down"));
      cell.setAttribute("data-key", String(i));
      tr.appendChild(cell);
      body.appendChild(tr);
    });
    table.hidden = false;
    note.hidden = !showBaseline;
    stateLine.textContent = "假设情形按今天（" + cnDate(data.as_of) + "）的数据、" + data.samples +
      " 次模拟计算，考核日 " + cnDate(data.target_date) + "。";
    renderChanged(data.changed);
  }

  function renderChanged(changed) {
    var body = changedBox.querySelector("tbody");
    body.textContent = "";
    changed.forEach(function (c) {
      var tr = el("tr");
      tr.appendChild(el("td", c.number + ". " + c.name + (c.star ? " ★" : ""), "wrap"));
      tr.appendChild(el("td", c.value_before + " → " + c.value_after));
      tr.appendChild(el("td", c.level_before + " → " + c.level_after));
      var diff = c.points_after - c.points_before;
      tr.appendChild(el("td", c.points_before + " → " + c.points_after,
        diff > 0 ? "up" : (diff < 0 ? "down" : "")));
      body.appendChild(tr);
    });
    changedBox.hidden = changed.length === 0;
  }

  function add() {
    showError("");
    var value;
    try { value = parseValue(); } catch (e) { showError(e.message); return; }
    var number = indicator.value;
    var option = indicator.options[indicator.selectedIndex];
    labels[number] = option.getAttribute("data-label") || option.textContent;
    values[number] = value;
    input.value = "";
    renderValues();
    schedule();
  }

  $("wi-add").addEventListener("click", add);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); add(); }
  });
  indicator.addEventListener("change", syncKind);
  kind.addEventListener("change", syncKind);
  panel.querySelectorAll("select.wi-force").forEach(function (select) {
    select.addEventListener("change", schedule);
  });
  $("wi-reset").addEventListener("click", function () {
    values = {}; labels = {};
    panel.querySelectorAll("select.wi-force").forEach(function (select) { select.value = ""; });
    renderValues();
    compute();
  });
  syncKind();
})();
