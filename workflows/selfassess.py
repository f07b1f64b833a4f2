"""The 自评 pack of a plan for 中期考核 / 终期验收: per standard indicator, its value as
known on the pack date (with date, source, who entered and approved it), its points
and level, the milestones behind it and the evidence of their approved reports.

Takes ids, no request objects. The figures are computed with the same functions as
the stored forecast run (app.forecasting.snapshot.evaluate): build_state() on the
pack date, latest_values(), explain(); a run stored for the same date is compared,
so the pack says whether it agrees with the 星级测算 page.

Rules:
- The as-of date: 中期考核 defaults to the clock's today; 终期验收 to the plan's
  target date if it is past, else today. Never after today (no invented values).
- A plan indicator feeds a standard indicator when its `standard_indicator` names it;
  the milestones behind a standard indicator are those linked to any plan indicator
  feeding it (标准直填 entries have none).
- Evidence counts only when its report is approved and was reviewed before the end
  of the pack date: never a draft's, a submitted or returned report's files, nor
  files uploaded without a report.
- Indicator values carry no files in this system (IndicatorValue has source and
  note text only): the pack says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock
from app.dates import cn_date
from app.engines.scoring import explain
from app.engines.standards import load_standard, max_points
from app.extensions import db
from app.forecasting import known
from app.forecasting.state import build_state, latest_values, target_date_of
from app.models import Evidence, ForecastRun, IndicatorValue, Milestone, Plan, ProgressReport
from app.stars.present import value_text

KINDS = {"mid": "中期考核", "final": "终期验收"}
STATE_LABELS = {"done": "已完成", "in_progress": "进行中", "not_started": "未开始"}


class PackError(ValueError):
    """A pack that cannot be built as asked; the message is Chinese, for the user."""


@dataclass
class EvidenceFile:
    id: int
    name: str  # as uploaded
    stored_name: str
    sha256: str
    size: int
    milestone_id: int
    report_id: int
    report_kind: str
    department: str
    approved_at: datetime | None


@dataclass
class MilestoneRow:
    id: int
    key: str
    title: str
    node: str
    department: str
    due: date
    state: str  # done / in_progress / not_started, on the pack date
    percent: int
    finished: date | None
    indicators: list[str]  # the plan indicators (feeding this standard indicator) it is linked to
    declared: list  # values its targets declare for them (plan indicator form)
    evidence: list[EvidenceFile] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


@dataclass
class IndicatorRow:
    number: str
    category: str
    name: str
    unit: str | None
    star: bool
    value: object  # the standard input, None when nothing is known
    value_text: str
    data_date: date | None
    source: str  # 计划指标：… / 标准直填 / 未录入
    entered_by: str | None
    approved_by: str | None
    approved_at: datetime | None
    note: str | None
    points: float
    level: int
    max_points: float
    feeders: list[str]  # names of the plan indicators linked to this number
    milestones: list[MilestoneRow]


@dataclass
class Pack:
    plan_id: int
    plan_code: str
    plan_title: str
    region: str
    region_id: int
    kind: str
    as_of: date
    today: date
    standard_code: str
    standard_title: str
    max_total: float
    total: float
    stars: int
    target_stars: int | None
    target_date: date
    rows: list[IndicatorRow]
    run: dict | None  # the run stored for the same date: {id, computed_at, total, stars, agrees, differs}

    @property
    def title(self) -> str:
        return f"{self.plan_title} {KINDS[self.kind]}自评材料"

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


def default_as_of(plan: Plan, kind: str, today: date | None = None) -> date:
    today = today or clock.today()
    if kind == "final":
        return min(target_date_of(plan), today)
    return today


def check_kind(kind: str | None) -> str:
    kind = kind or "mid"
    if kind not in KINDS:
        raise PackError(f"材料类型“{kind}”无效：应为 mid（中期考核）或 final（终期验收）。")
    return kind


def check_as_of(plan: Plan, as_of: date, today: date | None = None) -> date:
    today = today or clock.today()
    if as_of > today:
        raise PackError(f"数据截至日期不能晚于今天（{cn_date(today)}）：{cn_date(as_of)} 的数值尚不可知。")
    if as_of < plan.period_start:
        raise PackError(f"数据截至日期不能早于计划开始日期（{cn_date(plan.period_start)}）。")
    return as_of


def _user_name(user) -> str | None:
    return user.display_name or user.username if user is not None else None


def _source_text(src: dict | None) -> str:
    if not src:
        return "未录入"
    if src.get("direct"):
        return known.DIRECT_TABLE
    part = f"（分项：{src['part_name']}）" if src.get("part_name") else ""
    return f"计划指标：{src['indicator_name']}{part}"


def approved_evidence(milestone_ids, as_of: date) -> dict[int, list[EvidenceFile]]:
    """Files of reports approved before the end of as_of, per milestone, oldest first."""
    if not milestone_ids:
        return {}
    rows = db.session.execute(
        select(Evidence, ProgressReport)
        .join(ProgressReport, Evidence.report_id == ProgressReport.id)
        .where(
            Evidence.milestone_id.in_(list(milestone_ids)),
            ProgressReport.milestone_id == Evidence.milestone_id,
            ProgressReport.state == "approved",
            ProgressReport.reviewed_at.is_not(None),
            ProgressReport.reviewed_at < known.end_of(as_of),
        )
        .options(selectinload(ProgressReport.department))
        .order_by(ProgressReport.reviewed_at, Evidence.created_at, Evidence.id)
    ).all()
    out = defaultdict(list)
    for ev, report in rows:
        out[ev.milestone_id].append(
            EvidenceFile(
                id=ev.id,
                name=ev.original_name,
                stored_name=ev.stored_name,
                sha256=ev.sha256,
                size=ev.size,
                milestone_id=ev.milestone_id,
                report_id=report.id,
                report_kind=report.kind,
                department=report.department.name,
                approved_at=report.reviewed_at,
            )
        )
    return out


def stored_run_for(plan_id: int, as_of: date) -> ForecastRun | None:
    """The newest run stored for the plan on exactly this date."""
    return db.session.scalar(
        select(ForecastRun)
        .where(ForecastRun.plan_id == plan_id, ForecastRun.as_of == as_of)
        .order_by(ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
    )


def _compare(run: ForecastRun | None, current: dict) -> dict | None:
    if run is None or not run.result or "current" not in run.result:
        return None
    stored = run.result["current"]
    differs = [
        n
        for n, entry in current["indicators"].items()
        if stored["indicators"].get(n, {}).get("points") != entry["points"]
    ]
    return {
        "id": run.id,
        "computed_at": run.computed_at,
        "total": stored["total"],
        "stars": stored["stars"],
        "agrees": not differs and stored["total"] == current["total"],
        "differs": differs,
    }


def _milestone_rows(plan: Plan, state: dict, as_of: date) -> dict[int, dict]:
    """{milestone id: {state, percent, finished}} on as_of, from the forecast state."""
    by_key = {r["id"]: r for r in state["milestones"]}
    out = {}
    for m in db.session.scalars(select(Milestone).where(Milestone.plan_id == plan.id)):
        r = by_key.get(m.key)
        if r is None:
            continue
        finished = date.fromisoformat(r["finished"]) if r["finished"] else None
        st = "done" if finished else ("in_progress" if r["percent"] > 0 else "not_started")
        out[m.id] = {"state": st, "percent": r["percent"], "finished": finished, "due": r["due"]}
    return out


def build_pack(plan_id: int, kind: str = "mid", as_of: date | None = None) -> Pack:
    """The pack's content for the plan on as_of (default: by kind). Raises PackError."""
    kind = check_kind(kind)
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise PackError(f"计划 {plan_id} 不存在。")
    if not plan.standard_code:
        raise PackError(f"计划“{plan.title}”未指定评价标准，无法生成自评材料。")
    today = clock.today()
    as_of = check_as_of(plan, as_of or default_as_of(plan, kind, today), today)
    std = load_standard(plan.standard_code)
    # The stored run's own functions (snapshot.gather/evaluate): the same numbers as 星级测算.
    state, sources = build_state(plan, as_of)
    values = latest_values(state)
    current = explain(std, values)
    on_date = _milestone_rows(plan, state, as_of)

    inds = known.plan_indicators(plan)
    feeders = defaultdict(list)
    for ind in inds:
        if ind.standard_indicator:
            feeders[ind.standard_indicator].append(ind)
    ms_ids = {m.id for ind in inds if not known.is_direct(ind) for m in ind.milestones}
    evidence = approved_evidence(ms_ids, as_of)
    value_rows = {
        v.id: v
        for v in db.session.scalars(
            select(IndicatorValue)
            .where(IndicatorValue.id.in_([s["value_id"] for s in sources.values()]))
            .options(selectinload(IndicatorValue.entered_by), selectinload(IndicatorValue.reviewed_by))
        )
    }

    rows = []
    for spec in std["indicators"]:
        n = spec["number"]
        entry = current["indicators"][n]
        src = sources.get(n)
        vrow = value_rows.get(src["value_id"]) if src else None
        rows.append(
            IndicatorRow(
                number=n,
                category=spec["category"],
                name=spec["name"],
                unit=spec.get("unit"),
                star=spec["star"],
                value=values.get(n),
                value_text=value_text(values.get(n), spec.get("unit")) if n in values else "无数值",
                data_date=date.fromisoformat(src["as_of"]) if src else None,
                source=_source_text(src),
                entered_by=_user_name(vrow.entered_by) if vrow else None,
                approved_by=_user_name(vrow.reviewed_by) if vrow else None,
                approved_at=vrow.reviewed_at if vrow else None,
                note=(vrow.note or vrow.source) if vrow else None,
                points=entry["points"],
                level=entry["level"],
                max_points=max_points(spec),
                feeders=[i.name for i in feeders.get(n, []) if not known.is_direct(i)],
                milestones=_behind(feeders.get(n, []), on_date, evidence, as_of),
            )
        )
    run = stored_run_for(plan.id, as_of)
    return Pack(
        plan_id=plan.id,
        plan_code=plan.code,
        plan_title=plan.title,
        region=plan.region.name,
        region_id=plan.region_id,
        kind=kind,
        as_of=as_of,
        today=today,
        standard_code=std["code"],
        standard_title=std["title"],
        max_total=std.get("max_total") or sum(r.max_points for r in rows),
        total=current["total"],
        stars=current["stars"],
        target_stars=plan.target_stars,
        target_date=target_date_of(plan),
        rows=rows,
        run=_compare(run, current),
    )


def _behind(inds, on_date: dict, evidence: dict, as_of: date) -> list[MilestoneRow]:
    """The milestones linked to the plan indicators `inds`, by due date, each once."""
    linked: dict[int, tuple[Milestone, list]] = {}
    for ind in inds:
        if known.is_direct(ind):
            continue
        for m in ind.milestones:
            linked.setdefault(m.id, (m, []))[1].append(ind)
    out = []
    for m, its in linked.values():
        st = on_date.get(m.id, {"state": m.status, "percent": m.percent, "finished": m.actual_finish})
        declared = [v for ind in its for v in known.declared_values(m, ind, as_of)]
        out.append(
            MilestoneRow(
                id=m.id,
                key=m.key,
                title=m.title,
                node=m.node.title,
                department=m.lead_department.name,
                due=date.fromisoformat(st["due"]) if st.get("due") else m.due_date,
                state=st["state"],
                percent=st["percent"],
                finished=st["finished"],
                indicators=[i.name for i in its],
                declared=declared,
                evidence=list(evidence.get(m.id, [])),
            )
        )
    return sorted(out, key=lambda r: (r.due, r.id))
