/* 依赖关系图: draws /plans/<code>/graph.json (milestones, dependencies, the stored
 * schedule on today's date: overdue, forecast finish, slack, the critical path)
 * with the vendored cytoscape.js. Lateness comes decided from the server
 * (app.engines.schedule); this script only draws it.
 *
 * Layout: each connected group of milestones is laid out left to right in layers
 * (a milestone one column right of its latest predecessor), and the groups are
 * packed in rows, largest first, so a plan of ~100 mostly small chains stays
 * compact. Loaded as a file: the Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";

  var el = document.getElementById("graph");
  if (!el || typeof window.cytoscape !== "function") {
    return;
  }
  var statusEl = document.getElementById("graph-status");
  var filterEl = document.getElementById("graph-filter");
  var isolatedEl = document.getElementById("graph-hide-isolated");
  var fitEl = document.getElementById("graph-fit");

  var FILL = { not_started: "#e5e7eb", in_progress: "#bfdbfe", blocked: "#fde68a", done: "#bbf7d0" };
  var LATE = "#ea580c";
  var CRITICAL = "#dc2626";
  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  // Sized so that ~100 milestones fit a wide screen at a zoom near 1 (11px text stays legible).
  var NODE_W = 140;
  var NODE_H = 58;
  var COL_GAP = 40; // between layers of one group
  var ROW_GAP = 10; // between milestones of one layer
  var BLOCK_GAP = 30; // between groups
  var TITLE_MAX = 20;
  var FIT_PAD = 16;
  var MAX_FIT_ZOOM = 1.5;

  function say(text) {
    if (statusEl) {
      statusEl.textContent = text;
    }
  }

  function shortDate(iso) {
    if (!iso) {
      return "—";
    }
    var p = iso.split("-");
    return p[0] + "." + Number(p[1]) + "." + Number(p[2]);
  }

  function groupLabel(n) {
    var title = n.title.length > TITLE_MAX ? n.title.slice(0, TITLE_MAX - 1) + "…" : n.title;
    var info = n.total + " 个里程碑";
    if (n.risk_count) info += " · 风险 " + n.risk_count;
    if (n.critical_count) info += " · 关键 " + n.critical_count;
    return title + "\n" + info;
  }

  function label(n) {
    if (n.kind === "group") {
      return groupLabel(n);
    }
    var title = n.title.length > TITLE_MAX ? n.title.slice(0, TITLE_MAX - 1) + "…" : n.title;
    var info;
    if (n.forecast_finish === null) {
      info = "期限 " + shortDate(n.due);
    } else if (n.status === "done") {
      info = "完成" + shortDate(n.forecast_finish);
    } else if (n.overdue) {
      info = "逾期" + -n.days_to_due + "天 预计" + shortDate(n.forecast_finish);
    } else {
      // Slack counts to the assessment date: for a milestone due after it, it says nothing useful.
      var s = n.after_target ? null : n.slack_days;
      var slack = s === null ? "" : s < 0 ? " 落后" + -s + "天" : s === 0 ? " 无余量" : " 余" + s + "天";
      info = "预计" + shortDate(n.forecast_finish) + slack;
    }
    return title + "\n" + info;
  }

  function tooltip(n) {
    if (n.kind === "group") {
      return [n.title, "里程碑 " + n.total + "（未完成 " + n.open + "，风险 " + n.risk_count + "，关键路径 " + n.critical_count + "）", "点击展开此节点"].join("\n");
    }
    var lines = [n.title, n.department + " · " + n.status_label + " · " + n.percent + "%", "完成期限 " + n.due];
    if (n.overdue) {
      lines.push("逾期 " + -n.days_to_due + " 天");
    }
    if (n.forecast_finish && n.status !== "done") {
      var slack = n.slack_days === null || n.after_target ? "" : " · 余量 " + n.slack_days + " 天";
      lines.push("预计完成 " + n.forecast_finish + (n.late ? "（晚于期限）" : "") + slack);
    }
    if (n.after_target) {
      lines.push("考核日之后到期");
    }
    if (n.critical) {
      lines.push("在关键路径上");
    }
    return lines.join("\n");
  }

  function elements(data) {
    var out = [];
    data.nodes.forEach(function (n) {
      var classes = [];
      if (n.at_risk) classes.push("late");
      if (n.critical) classes.push("critical");
      if (n.after_target) classes.push("after");
      if (n.kind === "group") classes.push("group");
      if (n.outside) classes.push("outside");
      out.push({
        group: "nodes",
        data: {
          id: String(n.id),
          label: label(n),
          fill: FILL[n.status] || FILL.not_started,
          url: n.url,
          info: n,
        },
        classes: classes.join(" "),
      });
    });
    data.edges.forEach(function (e) {
      var classes = [];
      if (e.inferred) classes.push("inferred");
      if (e.critical) classes.push("critical");
      var d = { id: "e" + e.pred + "-" + e.succ, source: String(e.pred), target: String(e.succ) };
      if (e.lag_days) {
        d.lag = "+" + e.lag_days + "天";
      } else if (e.count) {
        d.lag = e.count + " 条";
      }
      out.push({ group: "edges", data: d, classes: classes.join(" ") });
    });
    return out;
  }

  var STYLE = [
    {
      selector: "node",
      style: {
        shape: "round-rectangle",
        width: NODE_W,
        height: NODE_H,
        "background-color": "data(fill)",
        "border-width": 1,
        "border-color": "#6b7280",
        label: "data(label)",
        "text-wrap": "wrap",
        "text-overflow-wrap": "anywhere", // Chinese titles have no spaces to break at
        "text-max-width": NODE_W - 8,
        "text-valign": "center",
        "text-halign": "center",
        "font-family": FONT,
        "font-size": 11,
        "line-height": 1.2,
        color: "#111827",
      },
    },
    { selector: "node.group", style: { shape: "rectangle", "border-width": 2, "font-weight": "bold" } },
    { selector: "node.outside", style: { "background-opacity": 0.5, "border-style": "dotted" } },
    { selector: "node.after", style: { "background-opacity": 0.45, "border-style": "dashed" } },
    { selector: "node.late", style: { "border-width": 4, "border-color": LATE } },
    { selector: "node.critical", style: { "border-width": 5, "border-color": CRITICAL, "border-style": "solid" } },
    { selector: "node.hidden, edge.hidden", style: { display: "none" } },
    {
      selector: "edge",
      style: {
        width: 1.6,
        "line-color": "#9ca3af",
        "target-arrow-color": "#9ca3af",
        "target-arrow-shape": "triangle",
        "arrow-scale": 0.8,
        "curve-style": "bezier",
      },
    },
    { selector: "edge.inferred", style: { "line-style": "dashed" } },
    {
      selector: "edge[lag]",
      style: {
        label: "data(lag)",
        "font-size": 10,
        "font-family": FONT,
        color: "#374151",
        "text-background-color": "#ffffff",
        "text-background-opacity": 1,
      },
    },
    {
      selector: "edge.critical",
      style: { width: 5, "line-color": CRITICAL, "target-arrow-color": CRITICAL, "z-index": 10 },
    },
  ];

  /* Groups placed left to right in rows no wider than maxW; positions are node centres. */
  function pack(blocks, maxW) {
    var out = {};
    var x = 0;
    var y = 0;
    var shelf = 0;
    var w = 0;
    blocks.forEach(function (b) {
      if (x > 0 && x + b.w > maxW) {
        x = 0;
        y += shelf + BLOCK_GAP;
        shelf = 0;
      }
      Object.keys(b.pos).forEach(function (id) {
        out[id] = { x: x + b.pos[id].x + NODE_W / 2, y: y + b.pos[id].y + NODE_H / 2 };
      });
      w = Math.max(w, x + b.w);
      x += b.w + BLOCK_GAP;
      shelf = Math.max(shelf, b.h);
    });
    return { out: out, w: Math.max(w, 1), h: Math.max(y + shelf, 1) };
  }

  /* Positions for the visible nodes: layered groups packed in rows to fit box. */
  function layoutPositions(nodes, edges, box) {
    var ids = nodes.map(function (n) {
      return n.id;
    });
    var info = {};
    nodes.forEach(function (n) {
      info[n.id] = n;
    });
    var preds = {};
    var succs = {};
    ids.forEach(function (id) {
      preds[id] = [];
      succs[id] = [];
    });
    edges.forEach(function (e) {
      preds[e.succ].push(e.pred);
      succs[e.pred].push(e.succ);
    });

    // Connected groups (union-find).
    var parent = {};
    function find(x) {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
      }
      return x;
    }
    ids.forEach(function (id) {
      parent[id] = id;
    });
    edges.forEach(function (e) {
      parent[find(e.pred)] = find(e.succ);
    });
    var groups = {};
    ids.forEach(function (id) {
      var r = find(id);
      (groups[r] = groups[r] || []).push(id);
    });

    function byDue(a, b) {
      return info[a].due < info[b].due ? -1 : info[a].due > info[b].due ? 1 : a - b;
    }

    var blocks = Object.keys(groups).map(function (r) {
      var members = groups[r].slice().sort(byDue);
      // Layer = longest chain of predecessors (the graph is acyclic; the server refuses cycles).
      var layer = {};
      var waiting = {};
      var queue = [];
      members.forEach(function (id) {
        waiting[id] = preds[id].length;
        if (!waiting[id]) {
          layer[id] = 0;
          queue.push(id);
        }
      });
      while (queue.length) {
        var id = queue.shift();
        succs[id].forEach(function (s) {
          layer[s] = Math.max(layer[s] || 0, layer[id] + 1);
          waiting[s] -= 1;
          if (!waiting[s]) queue.push(s);
        });
      }
      var layers = [];
      members.forEach(function (id) {
        var l = layer[id] || 0;
        (layers[l] = layers[l] || []).push(id);
      });
      // Order each layer by the mean row of its predecessors (fewer crossings).
      var row = {};
      layers.forEach(function (ls, l) {
        if (l > 0) {
          var key = {};
          ls.forEach(function (id) {
            var ps = preds[id].filter(function (p) {
              return row[p] !== undefined;
            });
            key[id] = ps.length
              ? ps.reduce(function (sum, p) {
                  return sum + row[p];
                }, 0) / ps.length
              : Infinity;
          });
          ls.sort(function (a, b) {
            return key[a] - key[b] || byDue(a, b);
          });
        }
        ls.forEach(function (id, i) {
          row[id] = i;
        });
      });
      var rows = Math.max.apply(
        null,
        layers.map(function (ls) {
          return ls.length;
        })
      );
      var pos = {};
      layers.forEach(function (ls, l) {
        var offset = (rows - ls.length) / 2; // centre short layers
        ls.forEach(function (id, i) {
          pos[id] = { x: l * (NODE_W + COL_GAP), y: (i + offset) * (NODE_H + ROW_GAP) };
        });
      });
      return {
        pos: pos,
        critical: members.some(function (id) {
          return info[id].critical;
        }),
        size: members.length,
        firstDue: info[members[0]].due,
        w: layers.length * (NODE_W + COL_GAP) - COL_GAP,
        h: rows * (NODE_H + ROW_GAP) - ROW_GAP,
      };
    });

    blocks.sort(function (a, b) {
      return (
        b.critical - a.critical ||
        b.h - a.h ||
        b.w - a.w ||
        (a.firstDue < b.firstDue ? -1 : a.firstDue > b.firstDue ? 1 : 0)
      );
    });

    // Shelf packing: try row widths between the widest group and one long row, keep
    // the one that lets the whole picture be drawn largest in the container.
    var widest = 0;
    var total = 0;
    blocks.forEach(function (b) {
      widest = Math.max(widest, b.w);
      total += b.w + BLOCK_GAP;
    });
    var best = null;
    for (var i = 0; i <= 40; i++) {
      var packed = pack(blocks, widest + ((total - widest) * i) / 40);
      var scale = Math.min(box.width / packed.w, box.height / packed.h);
      if (!best || scale > best.scale) {
        best = { scale: scale, out: packed.out };
      }
    }
    return best ? best.out : {};
  }

  function start(data) {
    var cy = window.cytoscape({
      container: el,
      elements: elements(data),
      style: STYLE,
      layout: { name: "preset" },
      minZoom: 0.08,
      maxZoom: 2.5,
      autoungrabify: true,
      boxSelectionEnabled: false,
    });
    window.cy = cy;

    cy.on("tap", "node", function (evt) {
      window.location.assign(evt.target.data("url"));
    });
    cy.on("mouseover", "node", function (evt) {
      el.classList.add("over-node");
      el.setAttribute("title", tooltip(evt.target.data("info")));
    });
    cy.on("mouseout", "node", function () {
      el.classList.remove("over-node");
      el.removeAttribute("title");
    });

    function fitVisible() {
      var visible = cy.nodes().not(".hidden");
      cy.fit(visible, FIT_PAD);
      if (cy.zoom() > MAX_FIT_ZOOM) {
        cy.zoom(MAX_FIT_ZOOM);
        cy.center(visible);
      }
    }

    function wanted(n) {
      var open = n.kind === "group" ? n.open > 0 : n.status !== "done";
      switch (filterEl ? filterEl.value : "all") {
        case "open":
          return open;
        case "risk":
          return n.at_risk;
        case "critical":
          return n.critical;
        default:
          return true;
      }
    }

    function render() {
      var shown = data.nodes.filter(wanted);
      var keep = {};
      shown.forEach(function (n) {
        keep[n.id] = true;
      });
      var shownEdges = data.edges.filter(function (e) {
        return keep[e.pred] && keep[e.succ];
      });
      if (isolatedEl && isolatedEl.checked) {
        var linked = {};
        shownEdges.forEach(function (e) {
          linked[e.pred] = linked[e.succ] = true;
        });
        shown = shown.filter(function (n) {
          return linked[n.id];
        });
      }
      var box = { width: Math.max(el.clientWidth, 1), height: Math.max(el.clientHeight, 1) };
      var pos = layoutPositions(shown, shownEdges, box);
      cy.batch(function () {
        cy.nodes().forEach(function (node) {
          var p = pos[node.id()];
          node.toggleClass("hidden", !p);
          if (p) node.position(p);
        });
        cy.edges().forEach(function (edge) {
          var d = edge.data();
          edge.toggleClass("hidden", !(pos[d.source] && pos[d.target]));
        });
      });
      var visible = cy.nodes().not(".hidden");
      fitVisible();
      el.dataset.nodeCount = String(visible.length);
      el.dataset.edgeCount = String(cy.edges().not(".hidden").length);
      el.dataset.rendered = "true";
      var text = "显示 " + visible.length + " 个里程碑、" + el.dataset.edgeCount + " 条依赖";
      if (data.level === "nodes") {
        text = "计划共 " + data.milestone_count + " 个里程碑，按节点汇总显示 " + visible.length + " 个节点（点击节点展开）";
      }
      if (data.basis === "recomputed") {
        text += "（测算之后计划有变动：已按当前完成期限重新推算）";
      } else if (data.basis === "rule") {
        text += "（尚未测算：按完成期限推算）";
      } else if (filterEl && filterEl.value === "critical" && !visible.length) {
        text = "当前没有关键路径";
      }
      say(text);
    }

    if (filterEl) filterEl.addEventListener("change", render);
    if (isolatedEl) isolatedEl.addEventListener("change", render);
    if (fitEl) {
      fitEl.addEventListener("click", fitVisible);
    }
    render();
  }

  say("正在加载…");
  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(start)
    .catch(function (err) {
      el.dataset.rendered = "error";
      say("依赖关系图加载失败（" + err.message + "），请刷新重试。");
    });
})();
