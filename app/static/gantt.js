/* 甘特图: draws /plans/<code>/gantt.json with the vendored ECharts.
 *
 * One row per milestone under group header rows (plan node or lead department). A bar runs
 * from the estimated start to the current due date; the baseline (due date before any
 * extension) is a thin grey bar beneath; done bars are green with a diamond on the actual
 * finish; overdue bars red; a forecast finish after the due date an orange tail; the
 * critical path a dark red frame. Dependencies are elbow arrows from a predecessor's end
 * to its successor's start. Lateness and the critical path come decided from the server
 * (the stored forecast run, as on 依赖关系图); this script only draws.
 *
 * Zoom: 按年 shows the whole plan with year bands; 按季度 a 15-month window around today
 * with quarter bands (pan with the slider). Rows scroll with the right-hand slider, so a
 * plan of ~1,000 milestones stays one canvas of fixed height. Loaded as a file (the CSP
 * allows no inline script); tooltips render as rich text, not HTML (no inline styles).
 */
(function () {
  "use strict";

  var el = document.getElementById("gantt");
  if (!el || !window.echarts) {
    return;
  }
  var statusEl = document.getElementById("gantt-status");
  var DAY = 86400000;
  var ROW_H = 24;
  var MAX_VISIBLE = 32; // rows in view at once
  var FILL = { not_started: "#cbd5e1", in_progress: "#93c5fd", blocked: "#fcd34d", done: "#4ade80" };
  var PROGRESS = { not_started: "#94a3b8", in_progress: "#3b82f6", blocked: "#d97706", done: "#16a34a" };
  var OVERDUE = "#dc2626";
  // Bars take the 三色 status every page shows (app/engines/status.py).
  var TRI = { red: OVERDUE, yellow: "#facc15", blue: "#93c5fd", done: "#4ade80" };
  var CRITICAL = "#7f1d1d";
  var state = { data: null, by: el.dataset.by || "node", zoom: "year", rows: [] };
  var chart = window.echarts.init(el, null, { locale: "ZH" });
  window.ganttChart = chart; // for tests and the console

  function controls(selector) {
    var box = document.getElementById("gantt-controls");
    return box ? box.querySelectorAll(selector) : [];
  }

  function say(text) {
    if (statusEl) {
      statusEl.textContent = text;
    }
  }

  function ms(iso) {
    var p = iso.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]);
  }

  // 2021年3月15日, as the cn_date filter writes dates on pages.
  function cn(iso) {
    if (!iso) {
      return "—";
    }
    var p = iso.split("-");
    return p[0] + "年" + Number(p[1]) + "月" + Number(p[2]) + "日";
  }

  function narrow() {
    return el.clientWidth < 640;
  }

  function clip(text, max) {
    text = String(text).replace(/[{}|]/g, " "); // rich-text markup characters
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  // Rows in drawing order: each group's header, then its milestones (already sorted by start).
  function layout(data) {
    var byGroup = {};
    data.rows.forEach(function (r) {
      (byGroup[r.group] = byGroup[r.group] || []).push(r);
    });
    var out = [];
    var headers = {};
    data.groups.forEach(function (g) {
      var h = { kind: "group", g: g, start: null, end: null, count: 0 };
      headers[g.id] = h;
      out.push(h);
      (byGroup[g.id] || []).forEach(function (r) {
        out.push({ kind: "row", r: r });
      });
    });
    // A header spans its milestones and those of its child groups.
    data.rows.forEach(function (r) {
      var ids = [r.group];
      var g = headers[r.group] && headers[r.group].g;
      if (g && g.parent && headers[g.parent]) {
        ids.push(g.parent);
      }
      ids.forEach(function (id) {
        var h = headers[id];
        var s = ms(r.start);
        var e = Math.max(ms(r.due), ms(r.forecast_finish));
        h.start = h.start === null ? s : Math.min(h.start, s);
        h.end = h.end === null ? e : Math.max(h.end, e);
        h.count += 1;
      });
    });
    return out.filter(function (item) {
      return item.kind === "row" || item.count > 0;
    });
  }

  // Background bands: one per year, or per quarter.
  function bands(zoom, start, end) {
    var out = [];
    var d = new Date(start);
    var y = d.getUTCFullYear();
    var m = zoom === "year" ? 0 : Math.floor(d.getUTCMonth() / 3) * 3;
    var step = zoom === "year" ? 12 : 3;
    var i = 0;
    while (Date.UTC(y, m, 1) < end) {
      var a = Date.UTC(y, m, 1);
      var b = Date.UTC(y, m + step, 1);
      out.push([
        { xAxis: a, itemStyle: { color: i % 2 ? "rgba(241,245,249,0.9)" : "rgba(255,255,255,0)" } },
        { xAxis: b },
      ]);
      m += step;
      if (m >= 12) {
        y += Math.floor(m / 12);
        m %= 12;
      }
      i += 1;
    }
    return out;
  }

  var QUARTERS = ["一", "二", "三", "四"];

  // Axis labels: years and months (按年), or each quarter's start (按季度, monthly ticks).
  function axisFor(zoom) {
    if (zoom === "year") {
      return { maxInterval: 400 * DAY, axisLabel: { formatter: { year: "{yyyy}年", month: "{M}月", day: "{M}月{d}日" } } };
    }
    return {
      maxInterval: 31 * DAY,
      axisLabel: {
        formatter: function (v) {
          var d = new Date(v);
          var m = d.getUTCMonth();
          if (d.getUTCDate() !== 1 || m % 3) {
            return "";
          }
          var y = d.getUTCFullYear();
          if (narrow()) {
            return (m === 0 ? y + " " : "") + "Q" + (m / 3 + 1);
          }
          return y + "年" + QUARTERS[m / 3] + "季度";
        },
      },
    };
  }

  function quarterWindow(today) {
    var d = new Date(today);
    var q0 = Math.floor(d.getUTCMonth() / 3) * 3;
    return [Date.UTC(d.getUTCFullYear(), q0 - 3, 1), Date.UTC(d.getUTCFullYear(), q0 + 12, 1)];
  }

  function renderBar(params, api) {
    var item = state.rows[params.dataIndex];
    if (!item) {
      return null;
    }
    var y = api.value(0);
    var band = api.size([0, 1])[1];
    var h = Math.max(6, band * 0.5);
    var c = api.coord([api.value(1), y]);
    var x1 = c[0];
    var x2 = api.coord([api.value(2), y])[0];
    var top = c[1] - h / 2 - band * 0.08;
    var children = [];
    if (item.kind === "group") {
      var gh = Math.max(3, band * 0.18);
      children.push({ type: "rect", shape: { x: x1, y: c[1] - gh / 2, width: Math.max(2, x2 - x1), height: gh },
        style: { fill: "#94a3b8" } });
      [x1, x2].forEach(function (x) {
        children.push({ type: "polygon", shape: { points: [[x - 4, c[1] - gh / 2], [x + 4, c[1] - gh / 2], [x, c[1] + gh / 2 + 4]] },
          style: { fill: "#94a3b8" } });
      });
      return { type: "group", children: children };
    }
    var r = item.r;
    var w = Math.max(3, x2 - x1);
    var fill = TRI[r.colour] || (r.done ? FILL.done : r.overdue ? OVERDUE : FILL[r.status] || FILL.not_started);
    // Baseline (extended milestones): start → due date before the extension, beneath the bar.
    if (r.extended) {
      var bx = api.coord([api.value(3), y])[0];
      var bh = Math.max(3, band * 0.16);
      children.push({ type: "rect", shape: { x: x1, y: top + h + 1, width: Math.max(2, bx - x1), height: bh },
        style: { fill: "#6b7280" } });
      children.push({ type: "rect", shape: { x: bx - 1, y: top + h - 2, width: 2, height: bh + 4 }, style: { fill: "#374151" } });
    }
    // Forecast finish after the due date: an orange tail.
    if (r.late && !r.done) {
      var fx = api.coord([api.value(4), y])[0];
      children.push({ type: "rect", shape: { x: x2, y: top + h * 0.3, width: Math.max(2, fx - x2), height: h * 0.4 },
        style: { fill: "#f97316" } });
    }
    children.push({ type: "rect", shape: { x: x1, y: top, width: w, height: h, r: 2 },
      style: { fill: fill, stroke: r.critical ? CRITICAL : "rgba(0,0,0,0.15)", lineWidth: r.critical ? 2.5 : 1 } });
    if (!r.done && !r.overdue && r.percent > 0) {
      children.push({ type: "rect", shape: { x: x1, y: top + h * 0.65, width: (w * r.percent) / 100, height: h * 0.35 },
        style: { fill: PROGRESS[r.status] || PROGRESS.in_progress } });
    }
    if (r.done && r.actual_finish) {
      var ax = api.coord([api.value(5), y])[0];
      var s = Math.max(4, h * 0.45);
      children.push({ type: "polygon", shape: { points: [[ax, top - 1], [ax + s, top + h / 2], [ax, top + h + 1], [ax - s, top + h / 2]] },
        style: { fill: "#15803d", stroke: "#fff", lineWidth: 1 } });
    }
    return { type: "group", children: children };
  }

  function renderEdge(params, api) {
    var e = state.edgeRows[params.dataIndex];
    var band = api.size([0, 1])[1];
    var p1 = api.coord([api.value(1), api.value(0)]);
    var p2 = api.coord([api.value(3), api.value(2)]);
    var x1 = p1[0];
    var y1 = p1[1] - band * 0.08;
    var x2 = p2[0];
    var y2 = p2[1] - band * 0.08;
    var pts = [[x1, y1], [x1 + 6, y1]];
    if (x2 - 6 >= x1 + 6) {
      pts.push([x1 + 6, y2], [x2, y2]);
    } else {
      var mid = y2 + (y2 > y1 ? -band / 2 : band / 2);
      pts.push([x1 + 6, mid], [x2 - 8, mid], [x2 - 8, y2], [x2, y2]);
    }
    var color = e.critical ? CRITICAL : "#94a3b8";
    return {
      type: "group",
      children: [
        { type: "polyline", shape: { points: pts }, style: { stroke: color, lineWidth: e.critical ? 2 : 1, fill: null,
          lineDash: e.inferred ? [4, 3] : null } },
        { type: "polygon", shape: { points: [[x2, y2], [x2 - 6, y2 - 4], [x2 - 6, y2 + 4]] }, style: { fill: color } },
      ],
    };
  }

  function tip(params) {
    if (params.seriesId === "deps") {
      var e = state.edgeRows[params.dataIndex];
      return "依赖：" + e.predTitle + " → " + e.succTitle + (e.lag_days ? "（间隔 " + e.lag_days + " 天）" : "") +
        (e.critical ? "\n关键路径" : "");
    }
    if (params.seriesId !== "bars") {
      return params.name || "";
    }
    var item = state.rows[params.dataIndex];
    if (item.kind === "group") {
      return item.g.label + "\n" + item.count + " 个里程碑";
    }
    var r = item.r;
    var lines = [r.title, "牵头：" + r.department + " · " + r.status_label + " " + r.percent + "%",
      "三色：" + r.colour_label + (r.reasons.length ? "（" + r.reasons.join("；") + "）" : ""),
      "估计开始：" + cn(r.start), "完成期限：" + cn(r.due)];
    if (r.extended) {
      lines.push("原定期限：" + cn(r.baseline_due) + "（延期 " + r.extensions.length + " 次）");
    }
    if (r.done) {
      lines.push("实际完成：" + cn(r.actual_finish));
    } else {
      lines.push("预计完成：" + cn(r.forecast_finish));
      if (r.overdue) {
        lines.push("已逾期 " + -r.days_to_due + " 天");
      }
      if (r.slack_days !== null) {
        lines.push(r.slack_days < 0 ? "落后 " + -r.slack_days + " 天" : "余量 " + r.slack_days + " 天");
      }
    }
    if (r.critical) {
      lines.push("关键路径");
    }
    return lines.join("\n");
  }

  function build(data) {
    state.data = data;
    state.rows = layout(data);
    var index = {};
    state.rows.forEach(function (item, i) {
      if (item.kind === "row") {
        index[item.r.id] = i;
      }
    });
    state.edgeRows = data.edges.filter(function (e) {
      return index[e.pred] !== undefined && index[e.succ] !== undefined;
    }).map(function (e) {
      var p = state.rows[index[e.pred]].r;
      var s = state.rows[index[e.succ]].r;
      return { critical: e.critical, inferred: e.inferred, lag_days: e.lag_days, predTitle: p.title, succTitle: s.title,
        value: [index[e.pred], ms(p.due), index[e.succ], ms(s.start)] };
    });
    var small = narrow();
    var labelW = small ? 104 : 300;
    var maxChars = small ? 7 : 22;
    var visible = Math.min(state.rows.length, MAX_VISIBLE);
    var height = visible * ROW_H + 96;
    var start = ms(data.range.start) - 20 * DAY;
    var end = ms(data.range.end) + 20 * DAY;
    state.start = start;
    state.end = end;
    var today = ms(data.today);
    var barData = state.rows.map(function (item, i) {
      if (item.kind === "group") {
        return { value: [i, item.start, item.end, item.end, item.end, item.end], name: item.g.label };
      }
      var r = item.r;
      return {
        value: [i, ms(r.start), ms(r.due), ms(r.baseline_due), ms(r.forecast_finish), r.actual_finish ? ms(r.actual_finish) : ms(r.due)],
        name: r.title,
      };
    });
    chart.setOption({
      animation: false,
      useUTC: true, // the dates are calendar days (Date.UTC); ticks fall on their midnights
      textStyle: { fontFamily: '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif' },
      grid: { left: labelW, right: 34, top: 30, bottom: 62 },
      tooltip: { trigger: "item", renderMode: "richText", confine: true, formatter: tip },
      xAxis: {
        type: "time", position: "bottom", min: start, max: end,
        axisLabel: { hideOverlap: true, formatter: { year: "{yyyy}年", month: "{M}月", day: "{M}月{d}日" } },
        splitLine: { show: false },
      },
      yAxis: {
        type: "category", inverse: true, data: state.rows.map(function (_, i) { return i; }),
        axisTick: { show: false },
        axisLabel: {
          interval: 0, width: labelW - 8, overflow: "truncate", align: "left", margin: labelW - 6,
          formatter: function (v, i) {
            var item = state.rows[i];
            if (!item) {
              return "";
            }
            if (item.kind === "group") {
              return "{g" + item.g.level + "|" + clip(item.g.label, maxChars) + "}";
            }
            var r = item.r;
            return "{" + (r.critical ? "c" : r.overdue ? "o" : "m") + "|" + clip(r.title, maxChars - 1) + "}";
          },
          rich: {
            g0: { fontWeight: "bold", color: "#111827" },
            g1: { fontWeight: "bold", color: "#374151", padding: [0, 0, 0, 8] },
            m: { color: "#374151", padding: [0, 0, 0, 16] },
            o: { color: OVERDUE, padding: [0, 0, 0, 16] },
            c: { color: CRITICAL, fontWeight: "bold", padding: [0, 0, 0, 16] },
          },
        },
      },
      dataZoom: [
        { id: "x", type: "slider", xAxisIndex: 0, filterMode: "none", bottom: 6, height: 20,
          labelFormatter: function (v) { return cn(new Date(v).toISOString().slice(0, 10)); } },
        { id: "xin", type: "inside", xAxisIndex: 0, filterMode: "none", zoomOnMouseWheel: "ctrl", moveOnMouseWheel: false },
        { id: "y", type: "slider", yAxisIndex: 0, filterMode: "none", right: 4, width: 16, zoomLock: true,
          showDetail: false, startValue: 0, endValue: visible - 1, brushSelect: false },
        { id: "yin", type: "inside", yAxisIndex: 0, filterMode: "none", zoomOnMouseWheel: false, moveOnMouseWheel: true,
          moveOnMouseMove: false },
      ],
      series: [
        {
          id: "bars", name: "里程碑", type: "custom", renderItem: renderBar, clip: true, data: barData,
          encode: { x: [1, 2], y: 0 },
          markArea: { silent: true, label: { show: false }, data: bands(state.zoom, start, end) },
          markLine: {
            silent: true, symbol: "none", animation: false,
            data: [
              { name: "今天", xAxis: today, lineStyle: { color: OVERDUE, width: 2, type: "solid" },
                label: { formatter: "今天 " + el.dataset.todayLabel, position: "start", color: OVERDUE, fontWeight: "bold" } },
              { name: "考核日", xAxis: ms(data.target_date), lineStyle: { color: "#7c3aed", width: 1.5, type: "dashed" },
                label: { formatter: "考核日", position: "start", color: "#7c3aed" } },
            ],
          },
          z: 3,
        },
        {
          id: "deps", name: "依赖", type: "custom", renderItem: renderEdge, clip: true, data: state.edgeRows,
          encode: { x: [1, 3], y: [0, 2] }, z: 2,
        },
      ],
    }, true);
    if (el.clientHeight !== height) {
      el.style.height = height + "px"; // after setOption: a resize redraws with the new rows
      chart.resize();
    }
    applyZoom();
    var critical = data.rows.filter(function (r) { return r.critical; }).length;
    el.dataset.rendered = "true";
    el.dataset.by = data.by;
    el.dataset.rowCount = data.rows.length;
    el.dataset.criticalCount = critical;
    say(data.rows.length + " 个里程碑 · " + data.groups.length + " 组" + (critical ? " · 关键路径 " + critical + " 个" : ""));
  }

  function applyZoom() {
    var win = state.zoom === "quarter" ? quarterWindow(ms(state.data.today)) : [state.start, state.end];
    chart.setOption({
      xAxis: axisFor(state.zoom),
      series: [{ id: "bars", markArea: { data: bands(state.zoom, state.start, state.end) } }],
    });
    chart.dispatchAction({ type: "dataZoom", dataZoomIndex: 0, startValue: Math.max(win[0], state.start),
      endValue: Math.min(win[1], state.end) });
    el.dataset.zoom = state.zoom;
    controls("[data-zoom]").forEach(function (b) {
      var on = b.dataset.zoom === state.zoom;
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function load(by) {
    say("正在加载…");
    el.dataset.rendered = "false";
    fetch(el.dataset.src + (el.dataset.src.indexOf("?") < 0 ? "?" : "&") + "by=" + encodeURIComponent(by), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error(resp.status);
        }
        return resp.json();
      })
      .then(function (data) {
        state.by = data.by;
        build(data);
        controls("[data-by]").forEach(function (a) {
          var on = a.dataset.by === data.by;
          a.classList.toggle("on", on);
          if (on) {
            a.setAttribute("aria-current", "true");
          } else {
            a.removeAttribute("aria-current");
          }
        });
      })
      .catch(function (err) {
        say("甘特图数据加载失败，请刷新页面重试。");
        window.console.error(err);
      });
  }

  controls("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      state.zoom = b.dataset.zoom;
      if (state.data) {
        applyZoom();
      }
    });
  });
  controls("a[data-by]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      if (window.history && history.replaceState) {
        history.replaceState(null, "", a.href);
      }
      load(a.dataset.by);
    });
  });
  chart.on("click", function (params) {
    if (params.seriesId === "bars") {
      var item = state.rows[params.dataIndex];
      if (item && item.kind === "row") {
        window.location.href = item.r.url;
      }
    }
  });
  window.addEventListener("resize", function () {
    if (state.data) {
      build(state.data);
    }
  });
  load(state.by);
})();
