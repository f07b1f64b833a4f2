"""Demo data on the real plans: both plans, demo accounts, and a progress
state as of 2021-03-15 (some milestones approved done, some late, some reports
waiting for review, values for most indicators). Idempotent: the progress
state is written once, marked by a `demo.load` audit event."""

import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from app import audit, demo_communities
from app.clock import utcnow
from app.engines.standards import load_standard
from app.extensions import db
from app.models import (
    AuditEvent,
    Department,
    Indicator,
    IndicatorValue,
    JobState,
    Milestone,
    Notice,
    NoticeRound,
    Plan,
    ProgressReport,
    Region,
    User,
)

DEMO_AS_OF = date(2021, 3, 15)
# Standard inputs a plain number cannot express; the demo assesses them by level.
LEVEL_INPUTS = {"level-only", "coverage_intact", "contribution_departments", "pilots", "parks"}
DEMO_PASSWORD = "demo-pass-2021"
PLAN_FILES = ["weihai-1313.yaml", "zhangqiu-3n.yaml"]
PLANS_DIR = Path(__file__).resolve().parent.parent / "plans"

# username, display name, role, region, department (None for region-wide roles)
ACCOUNTS = [
    ("wh-office", "威海市大数据中心（统筹）", "plan_office", "威海市", "市大数据中心"),
    ("wh-police", "市公安局联络员", "department", "威海市", "市公安局"),
    ("wh-industry", "市工业和信息化局联络员", "department", "威海市", "市工业和信息化局"),
    ("wh-housing", "市住房城乡建设局联络员", "department", "威海市", "市住房城乡建设局"),
    ("wh-education", "市教育局联络员", "department", "威海市", "市教育局"),
    ("wh-leader", "威海市智慧城市建设领导小组", "leading_group", "威海市", None),
    ("zq-office", "章丘区大数据局（统筹）", "plan_office", "章丘区", "区大数据局"),
    ("zq-industry", "区工业和信息化局联络员", "department", "章丘区", "区工业和信息化局"),
    ("zq-approval", "区行政审批服务局联络员", "department", "章丘区", "区行政审批服务局"),
    ("zq-housing", "区住房和城乡建设局联络员", "department", "章丘区", "区住房和城乡建设局"),
    ("zq-police", "区公安分局联络员", "department", "章丘区", "区公安分局"),
    ("zq-leader", "章丘区智慧城市建设领导小组", "leading_group", "章丘区", None),
    ("wh-street", "环翠楼街道办事处", "street", "威海市", "环翠楼街道"),
    ("zq-street", "明水街道办事处", "street", "章丘区", "明水街道"),
    ("province", "省大数据局（只读）", "province", None, None),
    ("admin", "系统管理员", "admin", None, None),
]


def is_demo_database() -> bool:
    return (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "demo.load").limit(1)) is not None
    )


def load_demo() -> list[tuple[str, str, str]]:
    from app.planio.loader import load_files

    load_files([PLANS_DIR / name for name in PLAN_FILES])
    demo_communities.ensure_streets()  # the 街道 offices the street accounts belong to
    users = _accounts()
    if not is_demo_database():
        from app.admin.holidays import seed_holidays_2021

        seed_holidays_2021()  # weekends and holidays move reminders (2021 official calendar)
        # As if reminders had run until a week ago: the first scan catches up the last week.
        week_ago = (DEMO_AS_OF - timedelta(days=7)).isoformat()
        db.session.merge(JobState(name="reminder_scan", value={"day": week_ago}))
        for code in ("weihai-1313", "zhangqiu-3n"):
            plan = db.session.scalar(select(Plan).where(Plan.code == code))
            _progress(plan, users)
            _indicator_values(plan, users)
            _direct_values(plan, users)
            _leaders(plan, users)
        _notices(users)
        demo_communities.load(users)
        db.session.add(
            AuditEvent(action="demo.load", object_type="Plan", summary="载入演示进度（截至 2021年3月15日）")
        )
        _earlier_forecasts()
        from workflows.bulletins import issue_demo

        issue_demo(DEMO_AS_OF)  # the week's 周报通报 (with each plan's forecast on the demo date)
    return [(u.username, DEMO_PASSWORD, u.role_label) for u in users.values()]


HISTORY_DAYS = (30, 7)  # the dashboards compare with a month and a week before the demo date


def _earlier_forecasts() -> None:
    """The star forecasts the recompute job would have stored 30 and 7 days before the demo
    date, each built only from what was known by its date (app.forecasting.state and
    known: approvals reviewed and values entered by then), so "since last week / last
    month" on the dashboards compares with real earlier runs. Stored before the current
    run (`flask demo load` stores that next), so the current one stays the latest.
    Commits: store_snapshot is a job boundary."""
    from app.forecasting.snapshot import store_snapshot

    plans = db.session.scalars(select(Plan).where(Plan.standard_code.is_not(None)).order_by(Plan.id)).all()
    for plan in plans:
        for days in HISTORY_DAYS:
            store_snapshot(plan, DEMO_AS_OF - timedelta(days=days))


def _accounts() -> dict[str, User]:
    users = {}
    for username, name, role, region_name, dept_name in ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            region = (
                db.session.scalar(select(Region).where(Region.name == region_name)) if region_name else None
            )
            dept = None
            if dept_name:
                dept = db.session.scalar(
                    select(Department).where(Department.region_id == region.id, Department.name == dept_name)
                )
            user = User(
                username=username,
                display_name=name,
                email=f"{username}@demo.starpath.local",
                role=role,
                region_id=region.id if region else None,
                department_id=dept.id if dept else None,
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            audit.record(None, "user.create", user, f"演示数据：创建用户 {username}")
        users[username] = user
    return users


def _leaders(plan: Plan, users: dict[str, User]) -> None:
    """The leading group's demo account answers for every top-level node (escalations)."""
    leader = users["wh-leader" if plan.code.startswith("weihai") else "zq-leader"]
    db.session.flush()
    for node in plan.roots:
        node.leader_id = leader.id


# 督办 on Weihai milestones, one per stage of the loop (交办 → 签收 → 反馈 → 复核 → 办结):
# (milestone key, department account, issuer, issued, reply due, state, text, answer, review note)
NOTICES = [
    (
        "wh-p03-2020", "wh-industry", "wh-leader", date(2021, 3, 1), date(2021, 3, 12), "answered",
        "5G 基础设施建设已逾期，请说明未完成的站点数量、原因及完成时间。",
        "已建成 5G 基站 1,260 个，剩余 140 个因选址协调滞后，预计 4 月底前全部完成。", None,
    ),
    (
        "wh-p38-2020", "wh-housing", "wh-leader", date(2021, 3, 8), date(2021, 3, 19), "acknowledged",
        "智慧物业综合服务系统逾期未完成，请于答复期限前报送整改计划。", None, None,
    ),
    (
        "wh-p05-2021", "wh-industry", "wh-office", date(2021, 3, 1), date(2021, 3, 10), "issued",
        "工业互联网建设进度落后序时进度，请说明 2021 年一季度的推进安排。", None, None,
    ),
    (
        "wh-p20-2021", "wh-housing", "wh-office", date(2021, 3, 11), date(2021, 3, 25), "issued",
        "城市管理系统智慧化升级请明确各子系统的建设单位和上线时间。", None, None,
    ),
    (
        "wh-p10-2020", "wh-office", "wh-leader", date(2021, 2, 22), date(2021, 3, 18), "returned",
        "2020 年度网络安全等级保护测评未完成，请说明未测评系统清单。",
        "测评工作正在推进。", "反馈过于笼统：请列出未完成测评的系统名称、责任单位和完成时间。",
    ),
]  # fmt: skip


def _notices(users: dict[str, User]) -> None:
    """A few 督办 in different states, so the loop (and its escalations) shows on the demo."""
    for key, dept_user, issuer, issued, due, state, text, answer, note in NOTICES:
        m = db.session.scalar(select(Milestone).where(Milestone.key == key))
        if m is None:
            continue
        dept = users[dept_user]
        notice = Notice(
            milestone=m,
            department_id=dept.department_id,
            issued_by_id=users[issuer].id,
            text=text,
            reply_due=due,
            issued_at=_stamp(issued),
            state=state,
        )
        if state != "issued":
            notice.acknowledged_at, notice.acknowledged_by_id = _stamp(issued + timedelta(days=1)), dept.id
        if answer:
            answered = _stamp(issued + timedelta(days=7))
            notice.reply_text, notice.replied_by_id, notice.replied_at = answer, dept.id, answered
            round_ = NoticeRound(number=1, reply_text=answer, replied_by_id=dept.id, replied_at=answered)
            if state == "returned":
                reviewed = _stamp(issued + timedelta(days=9))
                notice.reviewed_at, notice.reviewed_by_id, notice.review_note = (
                    reviewed,
                    users[issuer].id,
                    note,
                )
                round_.outcome, round_.review_note = "returned", note
                round_.reviewed_by_id, round_.reviewed_at = users[issuer].id, reviewed
            notice.rounds.append(round_)
        db.session.add(notice)
        audit.record(None, "demo.notice", notice, f"演示数据：督办单（{notice.state_label}）", milestone=m)


def _author(plan: Plan, department_id: int, users: dict[str, User]) -> User:
    """The department's demo account, else the plan office entering on its behalf."""
    for user in users.values():
        if user.department_id == department_id and user.role in ("department", "plan_office"):
            return user
    prefix = "wh" if plan.code.startswith("weihai") else "zq"
    return users[f"{prefix}-office"]


def _stamp(day: date):
    return utcnow().replace(
        year=day.year, month=day.month, day=day.day, hour=2, minute=0, second=0, microsecond=0
    )


def _progress(plan: Plan, users: dict[str, User]) -> None:
    milestones = db.session.scalars(
        select(Milestone).where(Milestone.plan_id == plan.id).order_by(Milestone.due_date, Milestone.key)
    ).all()
    office = users["wh-office" if plan.code.startswith("weihai") else "zq-office"]
    waiting = 0
    for m in milestones:
        rng = random.Random(f"{plan.code}/{m.key}")
        author = _author(plan, m.lead_department_id, users)
        days_left = (m.due_date - DEMO_AS_OF).days
        if days_left < 0 and rng.random() < 0.75:
            finish = m.due_date - timedelta(days=rng.randint(0, 25))
            if rng.random() < 0.2:  # finished, but late
                finish = min(m.due_date + timedelta(days=rng.randint(5, 40)), DEMO_AS_OF)
            _report(m, author, office, 100, "done", "approved", finish, f"已完成：{m.title}。")
            m.status, m.percent, m.actual_finish = "done", 100, finish
        elif days_left < 0:
            percent = rng.choice([40, 50, 60, 70, 80, 90])
            _report(
                m,
                author,
                office,
                percent,
                "in_progress",
                "approved",
                m.due_date - timedelta(days=30),
                "推进中，部分内容尚未完成。",
            )
            m.status, m.percent = "in_progress", percent
        elif days_left <= 300:
            percent = rng.choice([10, 20, 30, 40, 50, 60])
            m.status, m.percent = "in_progress", percent
            day = DEMO_AS_OF - timedelta(days=rng.randint(20, 60))
            _report(m, author, office, percent, "in_progress", "approved", day, "按计划推进。")
            if waiting < 6 and author is not office and rng.random() < 0.6:
                waiting += 1
                _report(
                    m,
                    author,
                    None,
                    min(percent + 20, 90),
                    "in_progress",
                    "submitted",
                    DEMO_AS_OF - timedelta(days=rng.randint(1, 6)),
                    "本月新增进展，请审核。",
                )


def _report(m, author, reviewer, percent, status, state, day, text) -> None:
    report = ProgressReport(
        milestone=m,
        department_id=m.lead_department_id,
        author_id=author.id,
        kind="lead",
        text=text,
        percent=percent,
        claimed_status=status,
        state=state,
        submitted_at=_stamp(day),
        reviewed_by_id=reviewer.id if reviewer else None,
        reviewed_at=_stamp(day) if reviewer else None,
    )
    db.session.add(report)
    audit.record(
        None, "demo.report", report, f"演示数据：{report.state_label}的汇报（{percent}%）", milestone=m
    )


MONTHLY = [
    date(2020, 9, 30),
    date(2020, 10, 31),
    date(2020, 11, 30),
    date(2020, 12, 31),
    date(2021, 1, 31),
    date(2021, 2, 28),
]
QUARTERLY = [date(2020, 9, 30), date(2020, 12, 31)]


def _shares(rng: random.Random, days: list[date]) -> list[float]:
    """An indicator's value as a share of its target on each date: a plausible start, a
    monthly drift of its own (some stall or slip back) and noise, as statistics are."""
    share = rng.uniform(0.7, 1.0)
    drift = rng.choice(
        [rng.uniform(-0.008, 0.0), rng.uniform(0.0, 0.012), rng.uniform(0.0, 0.012), rng.uniform(0.008, 0.03)]
    )
    out = []
    for _ in days:
        out.append(max(0.05, share))
        share += drift + rng.gauss(0, 0.012)
    return out


def _indicator_values(plan: Plan, users: dict[str, User]) -> None:
    office = users["wh-office" if plan.code.startswith("weihai") else "zq-office"]
    indicators = db.session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.position)
    ).all()
    # The standard's input kind decides the shape of a value (spec/scoring.md); a
    # compound plan indicator's value is stored per part.
    kinds = {row["number"]: row["input"] for row in load_standard(plan.standard_code)["indicators"]}
    waiting = 0  # a few department submissions wait in the review queue
    for ind in indicators:
        rng = random.Random(f"{plan.code}/{ind.key}/value")
        kind = kinds.get(ind.standard_indicator)
        if rng.random() < 0.08:  # a few indicators have no value yet
            continue
        days = MONTHLY if rng.random() < 0.7 else QUARTERLY  # some are counted quarterly
        target = ind.four_star_value
        part_shares = {p["key"]: _shares(rng, days) for p in ind.parts or []}
        shares = _shares(rng, days)
        level = rng.randint(2, 4)
        for i, as_of in enumerate(days):
            if kind == "deduction":  # 失泄密 incidents
                value_number, value_json = 0.0, None
            elif ind.parts:
                value_number, value_json = None, _per_part(ind, {k: v[i] for k, v in part_shares.items()})
            elif target is None or kind in LEVEL_INPUTS:
                value_number, value_json = None, {"level": level}
            else:
                share = shares[i]
                value_number = _round_like(
                    target * share if ind.four_star_op in (">=", ">") else target / share, ind.unit
                )
                value_json = None
            db.session.add(
                IndicatorValue(
                    indicator_id=ind.id,
                    as_of=as_of,
                    value_number=value_number,
                    value_json=value_json,
                    source="演示数据",
                    state="approved",
                    entered_by_id=office.id,
                    reviewed_by_id=office.id,
                    reviewed_at=_stamp(as_of + timedelta(days=5)),
                )
            )
        if waiting < 3 and kind not in ("deduction", "level-only"):
            waiting += _submitted_value(ind, users, value_number, value_json)


def _meeting(cond, fields: dict) -> None:
    """Fill `fields` with values that meet a cell condition (the smallest that do)."""
    for c in cond.get("all", cond.get("any", [])[:1]):
        _meeting(c, fields)
    if "op" not in cond:
        return
    # a little over the line, as a measured value would be
    value = cond["value"] + (1 if cond["op"] == ">" else 0)
    if cond["op"] in (">=", ">") and not isinstance(cond["value"], int):
        value = round(value * 1.04, 1)
    if "field" in cond:
        fields[cond["field"]] = max(fields.get(cond["field"], 0), value)
    elif "sum" in cond:
        fields[cond["sum"][0]] = max(fields.get(cond["sum"][0], 0), value)
    else:
        fields[None] = value


def _value_at_column(spec: dict, column: int):
    """A value of a standard indicator that earns the given column (or the nearest lower one)."""
    if spec["input"] == "deduction":
        return 0
    cells = spec["cells"]
    for c in range(column, 0, -1):
        cond = cells[c - 1]["condition"]
        if cells[c - 1]["points"] is None:
            continue
        if cond is None:
            return {"level": c}
        fields: dict = {}
        _meeting(cond, fields)
        if None in fields:
            return fields[None]
        for name in {"pilots": ("national", "provincial"), "parks": ("municipal", "provincial")}.get(
            spec["input"], ()
        ):
            fields.setdefault(name, 0)
        return fields
    return {"level": 0}


def _direct_values(plan: Plan, users: dict[str, User]) -> None:
    """The plan office has assessed most standard indicators the plan does not track
    (标准直填): entered at a plausible column, a few are still missing."""
    from app.forecasting.known import set_direct_value

    office = users["wh-office" if plan.code.startswith("weihai") else "zq-office"]
    std = load_standard(plan.standard_code)
    fed = {
        i.standard_indicator
        for i in db.session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))
        if i.standard_indicator
    }
    for spec in std["indicators"]:
        rng = random.Random(f"{plan.code}/std-{spec['number']}/direct")
        if spec["number"] in fed or rng.random() < 0.2:
            continue
        value = _value_at_column(spec, rng.choice([3, 3, 4, 4, 5]))
        row = set_direct_value(plan, spec["number"], value, office, date(2020, 12, 31))
        # Assessed at the year end, entered early in January: in the demo's past whatever the
        # clock says while it is loaded (`make run` loads before it pins the clock), and known
        # to the runs a week and a month back, so their trend shows what changed since.
        row.created_at = row.reviewed_at = _stamp(date(2021, 1, 8))


def _part_targets(ind: Indicator) -> dict:
    """Each part's four-star condition (else its five-star one): {part: (op, value)}."""
    out = {}
    for band in ("five_star", "four_star"):  # four-star wins
        cell = ind.cell(band)
        if cell["op"] is None or cell["part"] is None:
            continue
        for c in [{"part": cell["part"], "op": cell["op"], "value": cell["value"]}, *(cell["and"] or [])]:
            out[c["part"]] = (c["op"], c["value"])
    return out


def _per_part(ind: Indicator, shares: dict) -> dict:
    """A per-part value: each part at its share of its target; counts are whole numbers."""
    targets = _part_targets(ind)
    value = {}
    for part in ind.parts:
        op, target = targets.get(part["key"], (">=", 1))
        share = shares[part["key"]]
        x = target * share if op in (">=", ">") else target / share
        value[part["key"]] = _round_like(x, part["unit"])
    return value


def _submitted_value(ind: Indicator, users: dict[str, User], value_number, value_json) -> int:
    """A department's newer value waiting for review, where the department has a demo account."""
    dept_ids = {d.id for d in ind.departments}
    author = next((u for u in users.values() if u.role == "department" and u.department_id in dept_ids), None)
    if author is None:
        return 0
    if value_json is not None and ind.parts:
        units = {p["key"]: p["unit"] for p in ind.parts}
        value_json = {
            k: _round_like(max(x * 1.05, x + (units[k] != "%")), units[k]) for k, x in value_json.items()
        }
    elif value_json is not None:
        value_number, value_json = None, {"level": min(5, value_json["level"] + 1)}
    else:
        better = value_number / 1.05 if ind.four_star_op in ("<=", "<") else value_number * 1.05  # ranks
        value_number = _round_like(better, ind.unit)
    db.session.add(
        IndicatorValue(
            indicator_id=ind.id,
            as_of=DEMO_AS_OF - timedelta(days=3),
            value_number=value_number,
            value_json=value_json,
            source="演示数据：部门月度统计",
            note="本月新数据，请审核。",
            state="submitted",
            entered_by_id=author.id,
            created_at=_stamp(DEMO_AS_OF - timedelta(days=2)),
        )
    )
    return 1


def _round_like(value: float, unit: str | None) -> float:
    if unit == "%":
        return round(min(value, 100.0), 1)
    return float(round(value))
