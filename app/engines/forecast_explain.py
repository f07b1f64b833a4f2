"""What a forecast rests on and what moves it, from a sampled run (pure: numpy, networkx).

The rows the product shows next to the spec's numbers: each milestone's chance and
forecast finish, each indicator's expected and possible points, the departments'
learned records, the milestones that move P(target) most (forced done or never done
with the same draws), and the assumptions as Chinese sentences.
"""

from __future__ import annotations

from datetime import timedelta

import networkx as nx
import numpy as np

from app.engines.forecast_milestones import FS_WORK_SHARE, NEVER, after_predecessors
from app.engines.standards import max_points

TOP_MILESTONES = 10


def _date(state, days):
    return None if days >= NEVER else (state.as_of + timedelta(days=int(days))).isoformat()


def milestone_rows(run):
    rows = []
    state = run.state
    for j, m in enumerate(state.milestones):
        col = run.finish[:, j]
        if m.finished is not None:
            rows.append(
                {
                    "id": m.id,
                    "p_finish": 1.0 if m.finished <= state.target_date else 0.0,
                    "forecast_finish": m.finished.isoformat(),
                }
            )
            continue
        p10, p50, p90 = (int(np.percentile(col, q, method="nearest")) for q in (10, 50, 90))
        rows.append(
            {
                "id": m.id,
                "p_finish": float(np.count_nonzero(run.done[:, j])) / run.n,
                "forecast_finish": _date(state, p50),
                "finish_p10": _date(state, p10),
                "finish_p90": _date(state, p90),
                "p_on_time": float(np.count_nonzero(col <= (m.due - state.as_of).days)) / run.n,
            }
        )
    return rows


def indicator_rows(run, ceiling_points, current, degenerate=False):
    rows = {}
    for number, model in run.models.items():
        spec = model.spec
        cur = current["indicators"][number]["points"]
        expected = float(cur) if degenerate else float(run.points[number].mean())
        top = max_points(spec)
        row = {
            "name": spec["name"],
            "current_points": cur,
            "expected_points": round(expected, 4),
            "ceiling_points": int(ceiling_points[number]),
            "max_points": top,
            "latest": model.latest,
            "latest_date": model.latest_date.isoformat() if model.latest_date else None,
            "source": "measured" if model.latest is not None else "delivered" if model.deliveries else None,
            "deliveries": [
                {
                    "milestone": run.state.milestones[j].id,
                    "value": value,
                    "points": p,
                    "p_done": (
                        float(np.count_nonzero(run.done[:, j])) / run.n
                        if not degenerate
                        else float(run.state.milestones[j].finished is not None)
                    ),
                }
                for j, value, p in model.deliveries
            ],
            "unvalued": [run.state.milestones[j].id for j in model.unvalued],
        }
        if model.kind == "fields" and not degenerate:
            row["drift_per_year"] = {
                str(fm.name) if fm.name is not None else "value": round(fm.drift * 365, 4)
                for fm in model.fields
            }
        if not degenerate and spec["input"] != "deduction":
            pts = run.points[number]
            row["p_points"] = {
                str(int(p)): round(float(np.count_nonzero(pts == p)) / run.n, 4) for p in np.unique(pts)
            }
        rows[number] = row
    return rows


def department_rows(run):
    return {name: d.summary(run.sigma) for name, d in sorted(run.departments.items())}


def _descendants(run, j):
    """j's descendants in topological order."""
    below = nx.descendants(run.graph, j)
    if not below:
        return []
    pos = run.position
    return sorted(below, key=pos.__getitem__)


def top_milestones(run):
    """Open milestones that move P(target) most: forced done on as_of vs never done,
    with the same draws. Only the milestone, its descendants and the indicators they
    deliver to are recomputed (as columns laid over the base run)."""
    state = run.state
    k = state.target_stars
    delivering = {j for m in run.models.values() for j, _, _ in m.deliveries}
    by_milestone = {}
    for number, mo in run.models.items():
        for c, _, _ in mo.deliveries:
            by_milestone.setdefault(c, set()).add(number)
    raw = sum(run.points.values(), np.zeros(run.n, dtype=np.int64))
    rows = []
    for j, m in enumerate(state.milestones):
        if m.finished is not None or j in run.late:
            continue
        desc = _descendants(run, j)
        if j not in delivering and not any(d in delivering for d in desc):
            continue
        hits = {}
        for forced in (True, False):
            finish = {j: np.full(run.n, 0 if forced else NEVER, dtype=np.int64)}

            def column(c, finish=finish):
                return finish[c] if c in finish else run.finish[:, c]

            for d in desc:
                if state.milestones[d].finished is not None or d in run.late:
                    continue
                col = after_predecessors(run.own[:, d], state.milestones[d], column, run.index, run.work[d])
                finish[d] = np.minimum(col, NEVER)
            done = {c: f <= run.horizon for c, f in finish.items()}
            numbers = set().union(*(by_milestone.get(c, ()) for c in done))
            total = raw.copy()
            for number in numbers:
                new = run.points_of(number, lambda c, done=done: done[c] if c in done else run.done[:, c])
                total += new - run.points[number]
            hits[forced] = float(np.count_nonzero(run.stars_of(np.maximum(total, 0)) >= k)) / run.n
        if hits[True] > hits[False]:
            rows.append(
                {
                    "id": m.id,
                    "p_finish": float(np.count_nonzero(run.done[:, j])) / run.n,
                    "p_target_if_done": hits[True],
                    "p_target_if_late": hits[False],
                    "delta": round(hits[True] - hits[False], 6),
                }
            )
    rows.sort(key=lambda r: -r["delta"])
    return rows[:TOP_MILESTONES]


def _fmt_days(x):
    return f"{x:.0f}"


def assumptions(run, untracked, capped, ceiling_points, degenerate=False):
    state, std = run.state, run.std
    names = {spec["number"]: spec["name"] for spec in std["indicators"]}
    out = []
    if degenerate:
        out.append("测算日期已到或已过评估日期：星级按截至测算日的最新测量值计，不再模拟。")
    record = sum(d.records for d in run.departments.values())
    out.append(
        f"里程碑完成时间按各责任部门的历史记录抽样：已完成及已逾期的 {record} 个里程碑给出按期率与延期天数，"
        f"记录少的部门向全体记录收缩（全体按期率 {run.pooled['on_time_rate']:.0%}，"
        f"延期中位数 {_fmt_days(run.pooled['median_late_days'])} 天）；"
        "并按完成百分比与计划工期（开始至到期）调整。"
    )
    if any(m.predecessors for m in state.milestones):
        out.append(
            "依赖关系按“完成—开始”处理：前序里程碑完成（加滞后天数）后，后续里程碑尚余工作的 "
            f"{FS_WORK_SHARE:.0%} 仍须在其后完成。"
        )
    out.append(
        "指标值以最新测量值为起点（序列显示读数误差时按全计划估计的误差平滑）；漂移与波动只从测算日之前的"
        "测量序列学习（交付跳变所在区间不计入趋势），并向全计划的汇总值收缩；比率限定在 0–100，计数取整，"
        "排名限定在有效范围；一直保持在最优值（如 100%）的指标按保持计。"
    )
    valued = sum(len(m.deliveries) for m in run.models.values())
    if valued:
        out.append(f"{valued} 条交付关联按声明值计分，仅在该里程碑于评估日前完成的模拟中计入。")
    for number, model in run.models.items():
        if model.unvalued:
            ids = "、".join(run.state.milestones[j].id for j in model.unvalued)
            out.append(f"第 {number} 项（{names[number]}）：里程碑 {ids} 关联该指标但未声明交付值，不计分。")
    if untracked:
        lost = sum(max_points(run.models[n].spec) for n in untracked)
        listed = "、".join(f"{n}（{names[n]}）" for n in untracked)
        out.append(
            f"{len(untracked)} 项标准指标既无测量值也无交付（未跟踪），按 0 分计，"
            f"最多少得 {lost} 分：{listed}。"
        )
    if capped:
        listed = "、".join(f"{n}（{ceiling_points[n]}/{max_points(run.models[n].spec)}）" for n in capped)
        out.append(f"按计划全部交付仍达不到满分的指标（封顶分/满分）：{listed}；只能靠指标自身增长再提高。")
    return out


def ceiling_gap(result, std) -> dict:
    """Points between the median and the target band, and between the ceiling and it."""
    band = next((b["min_total"] for b in std["star_bands"] if b["stars"] == result["target_stars"]), None)
    if band is None:
        return {}
    return {
        "target_min_total": band,
        "median_gap": band - result["p50"],
        "ceiling_gap": band - result["ceiling"]["total"],
    }
