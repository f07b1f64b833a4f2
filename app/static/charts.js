/* 指标走势图: one ECharts line chart per indicator and unit, from the JSON block the page
 * carries (the same document as /plans/<code>/indicator-charts.json).
 *
 * Lines: the approved values (one per part where the indicator is measured in parts).
 * Targets: a dashed horizontal segment per four-/five-star condition, from the left edge
 * to the target's due date, drawn only on the series of its quantity and unit (the
 * server decides which; targets it cannot draw are listed on the page). A red line
 * marks today. Charts are built as they scroll into view. Tooltips are rich text (the
 * CSP allows no inline styles).
 */
(function () {
  "use strict";

  var blob = document.getElementById("charts-data");
  if (!blob || !window.echarts) {
    return;
  }
  var data = JSON.parse(blob.textContent);
  var todayEl = document.getElementById("charts-today");
  var todayLabel = todayEl ? todayEl.dataset.label : data.today;
  var DAY = 86400000;
  var COLORS = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777"];
  var BAND = { 4: "#ea580c", 5: "#7c3aed" };
  var byId = {};
  data.indicators.forEach(function (i) {
    byId[i.id] = i;
  });
  window.indicatorCharts = {}; // "<indicator id>-<chart index>" -> ECharts instance (tests, console)

  function ms(iso) {
    var p = iso.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]);
  }

  function cn(iso) {
    var p = iso.split("-");
    return p[0] + "年" + Number(p[1]) + "月" + Number(p[2]) + "日";
  }

  function fmt(x, unit) {
    var n = Math.round(x * 100) / 100;
    return unit === "%" ? n + "%" : unit ? n + " " + unit : String(n);
  }

  function option(ind, c) {
    var today = ms(data.today);
    var xs = [today];
    var ys = [];
    c.series.forEach(function (s) {
      s.points.forEach(function (p) {
        xs.push(ms(p[0]));
        ys.push(p[1]);
      });
    });
    c.targets.forEach(function (t) {
      if (t.due) {
        xs.push(ms(t.due));
      }
      ys.push(t.value);
    });
    var x0 = Math.min.apply(null, xs) - 30 * DAY;
    var x1 = Math.max.apply(null, xs) + 30 * DAY;
    var lo = Math.min.apply(null, ys);
    var hi = Math.max.apply(null, ys);
    var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
    var color = {};
    var series = c.series.map(function (s, k) {
      color[s.key] = COLORS[k % COLORS.length];
      return {
        id: "s" + k, name: s.name, type: "line", data: s.points.map(function (p) { return [ms(p[0]), p[1], p[0]]; }),
        showSymbol: true, symbolSize: 6, lineStyle: { width: 2, color: color[s.key] }, itemStyle: { color: color[s.key] },
        markLine: k === 0 ? {
          silent: true, symbol: "none",
          data: [{ xAxis: today, lineStyle: { color: "#dc2626", type: "solid", width: 1.5 },
            label: { formatter: "今天 " + todayLabel, position: "end", color: "#dc2626" } }],
        } : undefined,
      };
    });
    var narrow = window.innerWidth < 640;
    // Target lines: one series of segments per target, in the band's colour. The label sits at
    // the due date: the five-star one on the far side of its line from the four-star one.
    c.targets.forEach(function (t, k) {
      var end = t.due ? ms(t.due) : x1;
      var above = (t.stars === 5) === (t.op !== "<=" && t.op !== "<");
      var early = (end - x0) / (x1 - x0) < 0.4; // too near the left edge for a label ending there
      series.push({
        id: "t" + k, name: t.text, type: "line", data: [[x0, t.value], [end, t.value]],
        symbol: ["none", "circle"], symbolSize: 7, showSymbol: true,
        lineStyle: { type: "dashed", width: 1.5, color: BAND[t.stars] }, itemStyle: { color: BAND[t.stars] },
        endLabel: { show: true, formatter: t.text + (t.due && !narrow ? "（" + cn(t.due) + "）" : ""), color: BAND[t.stars],
          fontSize: 11, offset: [early ? 4 : -4, above ? -10 : 10], align: early ? "left" : "right" },
        tooltip: { show: false }, z: 1,
        targetStars: t.stars,
      });
    });
    return {
      animation: false,
      useUTC: true, // the dates are calendar days (Date.UTC)
      color: COLORS,
      textStyle: { fontFamily: '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif' },
      grid: { left: 8, right: 16, top: 30, bottom: c.series.length > 1 ? 30 : 8, containLabel: true },
      legend: c.series.length > 1 ? { type: "scroll", bottom: 0, data: c.series.map(function (s) { return s.name; }) } : undefined,
      tooltip: {
        trigger: "axis", renderMode: "richText", confine: true,
        formatter: function (items) {
          var rows = items.filter(function (p) { return String(p.seriesId).charAt(0) === "s"; });
          if (!rows.length) {
            return "";
          }
          return cn(rows[0].value[2]) + "\n" + rows.map(function (p) {
            return p.seriesName + "：" + fmt(p.value[1], c.unit);
          }).join("\n");
        },
      },
      xAxis: { type: "time", min: x0, max: x1, axisLabel: { hideOverlap: true, formatter: { year: "{yyyy}年", month: "{M}月", day: "{M}月{d}日" } },
        splitLine: { show: false } },
      yAxis: {
        // From 0 when nothing is negative, so the gap to a target line is seen in proportion;
        // a percentage stops at 100 when nothing is above it.
        type: "value", name: narrow ? "" : c.unit || "", nameGap: 8, min: lo >= 0 ? 0 : Math.floor(lo - pad),
        max: c.unit === "%" && hi <= 100 ? 100 : Math.ceil(hi + pad), axisLabel: { formatter: function (v) { return fmt(v, c.unit === "%" ? "%" : ""); } },
      },
      series: series,
    };
  }

  function draw(el) {
    var ind = byId[el.dataset.indicator];
    var c = ind && ind.charts[+el.dataset.chart];
    if (!c || el.dataset.rendered) {
      return;
    }
    var chart = window.echarts.init(el, null, { locale: "ZH" });
    chart.setOption(option(ind, c));
    el.dataset.rendered = "true";
    el.dataset.targets = c.targets.length;
    window.indicatorCharts[ind.id + "-" + el.dataset.chart] = chart;
  }

  var els = Array.prototype.slice.call(document.querySelectorAll(".ind-chart"));
  if ("IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) {
          draw(e.target);
          seen.unobserve(e.target);
        }
      });
    }, { rootMargin: "300px" });
    els.forEach(function (el) { seen.observe(el); });
  } else {
    els.forEach(draw);
  }
  window.addEventListener("resize", function () {
    Object.keys(window.indicatorCharts).forEach(function (k) { window.indicatorCharts[k].resize(); });
  });
})();
