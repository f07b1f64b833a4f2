"""A small plan for the 考评 and bulletin tests (on tests.factories.build_world, today 2021-03-15).

市公安局 leads: 警务云建设 (m2, due 2-28, open: red, 3 points at stake in the stored run),
视频平台升级 (due 3-25), 警航一体化 (due 12-31) and 人口库对接 (m6, due 3-1, done 3-1,
lead report submitted 2-27). 市交通运输局 leads 公交大数据系统 (due 6-30) and 站牌改造
(m5, due 2-15, done 2-20: late, no report). 督办 to 市公安局: one answered a day before its
reply date (3-10), one unanswered past it (3-12).
"""

from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import ForecastRun, Milestone, Notice, PlanNode, ProgressReport
from tests.factories import build_world

D = date


def stored_run(plan_id: int, as_of: date, p_target: float, p50: float, key: str = "t") -> ForecastRun:
    run = ForecastRun(
        plan_id=plan_id,
        as_of=as_of,
        target_date=D(2021, 10, 31),
        data_key=key,
        computed_at=datetime.combine(as_of, datetime.min.time()),
        result={
            "target_stars": 4,
            "target_date": "2021-10-31",
            "keys": {},
            "forecast": {
                "p_target": p_target,
                "p50": p50,
                "ceiling": {"total": 372, "stars": 5},
                "samples": 1000,
                "milestones": [],
                "indicators": {
                    "5": {
                        "name": "视频监控联网率",
                        "current_points": 1,
                        "deliveries": [{"milestone": "m2", "points": 4}],
                    }
                },
            },
        },
    )
    db.session.add(run)
    return run


def build_scenario() -> dict:
    w = build_world()
    ids = dict(w.ids)
    m_late = db.session.get(Milestone, w["m_late"])
    node = db.session.scalar(select(PlanNode).where(PlanNode.plan_id == m_late.plan_id))

    def ms(key, title, due, lead_id, **kw):
        m = Milestone(
            plan_id=m_late.plan_id,
            node_id=node.id,
            key=key,
            title=title,
            due_date=due,
            baseline_due_date=due,
            lead_department_id=lead_id,
            **kw,
        )
        db.session.add(m)
        return m

    m6 = ms(
        "m6",
        "人口库对接",
        D(2021, 3, 1),
        w["police_dept"],
        status="done",
        percent=100,
        actual_finish=D(2021, 3, 1),
    )
    m5 = ms(
        "m5",
        "站牌改造",
        D(2021, 2, 15),
        w["transport_dept"],
        status="done",
        percent=100,
        actual_finish=D(2021, 2, 20),
    )
    db.session.flush()
    db.session.add(
        ProgressReport(
            milestone_id=m6.id,
            department_id=w["police_dept"],
            author_id=w["police"],
            kind="lead",
            text="完成",
            percent=100,
            claimed_status="done",
            state="approved",
            submitted_at=datetime(2021, 2, 27, 2),
        )
    )
    db.session.add(
        ProgressReport(  # a draft is not a submission
            milestone_id=m_late.id,
            department_id=w["police_dept"],
            author_id=w["police"],
            kind="lead",
            text="草稿",
            percent=50,
            claimed_status="in_progress",
            state="draft",
            submitted_at=None,
        )
    )
    db.session.add(
        Notice(
            milestone_id=m6.id,
            department_id=w["police_dept"],
            issued_by_id=w["leader"],
            text="请说明进展",
            reply_due=D(2021, 3, 10),
            replied_at=datetime(2021, 3, 9, 2),
            reply_text="已完成",
        )
    )
    db.session.add(
        Notice(
            milestone_id=m_late.id,
            department_id=w["police_dept"],
            issued_by_id=w["leader"],
            text="请加快",
            reply_due=D(2021, 3, 12),
        )
    )
    stored_run(m_late.plan_id, D(2021, 3, 15), 0.42, 341.5)
    db.session.commit()
    ids.update(m6=m6.id, m5=m5.id, plan_a=m_late.plan_id)
    return ids
