"""Plan.data_version: every change that can move a plan's forecast bumps it in the
same transaction (a rollback undoes both); changes that cannot, and other plans, do not."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.forecasting import known
from app.models import (
    Department,
    Dependency,
    Extension,
    Indicator,
    IndicatorValue,
    Milestone,
    Plan,
    PlanNode,
    ProgressReport,
    User,
)
from app.models.indicator import milestone_indicator
from app.planio.links import sync_links
from tests.factories import build_world
from workflows import review


def version(code: str) -> int:
    return db.session.scalar(select(Plan.data_version).where(Plan.code == code))


@pytest.fixture
def world(ctx):
    w = build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    db.session.commit()
    return w


class Versions:
    """Both plans' versions before a change; `bumped()` after it (plan-b must not move)."""

    def __init__(self):
        self.a, self.b = version("plan-a"), version("plan-b")

    def bumped(self) -> bool:
        assert version("plan-b") == self.b, "another plan's version moved"
        return version("plan-a") > self.a


def _report(w, state="draft", kind="lead", dept="police", milestone="m_police"):
    user = db.session.get(User, w[dept])
    r = ProgressReport(
        milestone=db.session.get(Milestone, w[milestone]),
        department_id=user.department_id,
        author_id=user.id,
        kind=kind,
        text="平台已上线",
        percent=100,
        claimed_status="done",
        state=state,
    )
    db.session.add(r)
    return r


def _submitted(w, **kw):
    r = _report(w, **kw)
    review.submit(r, db.session.get(User, w[kw.get("dept", "police")]))
    db.session.commit()
    return r


def test_submitting_a_report_does_not_bump_approving_it_does(world):
    v = Versions()
    r = _submitted(world)
    assert not v.bumped()
    review.approve(r, db.session.get(User, world["office"]))
    db.session.commit()
    assert v.bumped()


def test_returning_a_submitted_report_does_not_bump(world):
    r = _submitted(world)
    v = Versions()
    review.return_(r, db.session.get(User, world["office"]), "证明材料不全")
    db.session.commit()
    assert not v.bumped()


def test_approving_a_co_department_part_bumps(world):
    r = _submitted(world, kind="part", dept="transport")
    v = Versions()
    review.approve(r, db.session.get(User, world["office"]))
    db.session.commit()
    assert v.bumped()  # it moves data_time


@pytest.mark.parametrize(
    ("field", "value", "counts"),
    [
        ("due_date", date(2021, 4, 30), True),
        ("status", "in_progress", True),
        ("percent", 50, True),
        ("actual_finish", date(2021, 3, 1), True),
        ("targets", [{"indicator": "i1", "value": 95}], True),
        ("title", "视频平台升级（二期）", True),
        ("text", "只改了说明", False),
        ("source", "第3页", False),
    ],
)
def test_milestone_fields(world, field, value, counts):
    v = Versions()
    setattr(db.session.get(Milestone, world["m_police"]), field, value)
    db.session.commit()
    assert v.bumped() is counts


def test_milestone_lead_department_and_co_departments(world):
    v = Versions()
    m = db.session.get(Milestone, world["m_police"])
    m.co_departments = []
    db.session.commit()
    assert not v.bumped()
    m.lead_department = db.session.get(Department, world["transport_dept"])
    db.session.commit()
    assert v.bumped()


def test_milestone_created_and_deleted(world):
    v = Versions()
    node = db.session.scalar(select(PlanNode).where(PlanNode.key == "n1", PlanNode.plan.has(code="plan-a")))
    m = Milestone(
        node=node,
        plan=node.plan,
        key="m9",
        title="新增",
        due_date=date(2021, 9, 30),
        baseline_due_date=date(2021, 9, 30),
        lead_department_id=world["police_dept"],
    )
    db.session.add(m)
    db.session.commit()
    assert v.bumped()
    v = Versions()
    db.session.delete(m)
    db.session.commit()
    assert v.bumped()


def test_milestone_created_through_its_node_only(world):
    node = db.session.scalar(select(PlanNode).where(PlanNode.plan.has(code="plan-a")))
    v = Versions()
    db.session.add(
        Milestone(
            node=node,
            plan_id=node.plan_id,
            key="m8",
            title="新增",
            due_date=date(2021, 9, 30),
            baseline_due_date=date(2021, 9, 30),
            lead_department_id=world["police_dept"],
        )
    )
    db.session.commit()
    assert v.bumped()


def test_extension_granted(world):
    v = Versions()
    m = db.session.get(Milestone, world["m_police"])
    # by id: the milestone itself is not touched, the extension alone must bump
    ext = Extension(
        milestone_id=m.id,
        old_due=m.due_date,
        new_due=date(2021, 5, 31),
        reason="设备到货推迟",
        granted_by_id=world["office"],
    )
    db.session.add(ext)
    db.session.commit()
    assert v.bumped()


def test_dependencies_added_changed_removed(world):
    v = Versions()
    dep = Dependency(
        plan_id=db.session.get(Milestone, world["m_far"]).plan_id,
        predecessor_id=world["m_late"],
        successor_id=world["m_far"],
    )
    db.session.add(dep)
    db.session.commit()
    assert v.bumped()
    v = Versions()
    dep.lag_days = 10
    db.session.commit()
    assert v.bumped()
    v = Versions()
    db.session.delete(dep)
    db.session.commit()
    assert v.bumped()


def _value(ind_id, state):
    row = IndicatorValue(indicator_id=ind_id, as_of=date(2021, 3, 1), value_number=88.0, state=state)
    db.session.add(row)
    return row


def test_indicator_value_counts_once_approved(world):
    ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
    v = Versions()
    row = _value(ind.id, "submitted")
    db.session.commit()
    assert not v.bumped()
    row.state = "approved"
    db.session.commit()
    assert v.bumped()
    v = Versions()
    row.state = "returned"  # withdrawn after approval: the forecast loses it
    db.session.commit()
    assert v.bumped()


def test_indicator_definition_and_link(world):
    ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
    v = Versions()
    ind.standard_indicator = "14"
    db.session.commit()
    assert v.bumped()


def test_direct_standard_value(world):
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    v = Versions()
    known.set_direct_value(plan, "1", 80, db.session.get(User, world["office"]), date(2021, 3, 1))
    db.session.commit()
    assert v.bumped()


def test_plan_settings(world):
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    v = Versions()
    plan.step_costs = {"14": 3}
    plan.step_cost_unit = "人天"
    db.session.commit()
    assert v.bumped()
    assert plan.data_version == version("plan-a")  # the loaded instance reads the new number


def test_node_added(world):
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    v = Versions()
    db.session.add(PlanNode(plan_id=plan.id, key="n2", kind="program", title="智慧交通"))
    db.session.commit()
    assert v.bumped()


def test_node_leader_alone_does_not_bump(world):
    node = db.session.scalar(select(PlanNode).where(PlanNode.plan.has(code="plan-a")))
    v = Versions()
    node.leader_id = world["leader"]
    db.session.commit()
    assert not v.bumped()


def test_link_rows_written_with_core(world):
    ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
    v = Versions()
    sync_links(milestone_indicator, "milestone_id", world["m_transport"], "indicator_id", [ind.id])
    db.session.commit()
    assert v.bumped()


def test_department_rename_bumps_the_plans_it_leads_in(world):
    v = Versions()
    db.session.get(Department, world["police_dept"]).name = "甲市公安局（新）"
    db.session.commit()
    assert v.bumped()


def test_rollback_undoes_the_bump(world):
    v = Versions()
    m = db.session.get(Milestone, world["m_police"])
    m.due_date = date(2021, 4, 30)
    db.session.flush()
    assert version("plan-a") == v.a + 1  # in the change's own transaction
    db.session.rollback()
    assert not v.bumped()
    assert db.session.get(Milestone, world["m_police"]).due_date == date(2021, 3, 25)


def test_a_failed_flush_rolls_the_bump_back(world):
    v = Versions()
    db.session.add(
        Dependency(
            plan_id=db.session.get(Milestone, world["m_far"]).plan_id,
            predecessor_id=world["m_late"],
            successor_id=world["m_police"],
        )
    )
    with pytest.raises(IntegrityError):  # the same dependency twice: unique key
        db.session.commit()
    db.session.rollback()
    assert not v.bumped()


def test_plan_load_and_reload(ctx, tmp_path):
    from pathlib import Path

    import yaml

    from app.planio.loader import load_files

    source = Path(__file__).resolve().parents[2] / "plans" / "zhangqiu-3n.yaml"
    report = load_files([str(source)])
    assert not report.errors
    code = yaml.safe_load(source.read_text(encoding="utf-8"))["code"]
    first = version(code)
    load_files([str(source)])  # the same file again: nothing written, nothing bumped
    assert version(code) == first
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    first_milestone = _first_milestone(data)
    first_milestone["due"] = "2021-09-30" if str(first_milestone["due"]) != "2021-09-30" else "2021-08-31"
    changed = tmp_path / "zhangqiu-3n.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_files([str(changed)])
    assert version(code) > first


def _first_milestone(data):
    stack = list(data["nodes"])
    while stack:
        node = stack.pop(0)
        if node.get("milestones"):
            return node["milestones"][0]
        stack = list(node.get("children") or []) + stack
    raise AssertionError("no milestone in the plan file")
