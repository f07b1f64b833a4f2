"""A small world for tests: two regions, departments, users of every role,
milestones with dependencies and co-departments."""

from dataclasses import dataclass, field
from datetime import date

from app.extensions import db
from app.models import Department, Dependency, Indicator, Milestone, Plan, PlanNode, Region, User

PASSWORD = "secret-pass-1"


@dataclass
class World:
    ids: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.ids[key]


def _user(username, role, region=None, dept=None):
    user = User(
        username=username,
        display_name=username,
        role=role,
        region_id=region.id if region else None,
        department_id=dept.id if dept else None,
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    return user


def build_world() -> World:
    a = Region(name="甲市", kind="city")
    b = Region(name="乙县", kind="county")
    db.session.add_all([a, b])
    db.session.flush()
    office_dept = Department(region_id=a.id, name="甲市大数据中心", kind="public_institution")
    police = Department(region_id=a.id, name="甲市公安局")
    transport = Department(region_id=a.id, name="甲市交通运输局")
    other = Department(region_id=b.id, name="乙县大数据局")
    db.session.add_all([office_dept, police, transport, other])
    db.session.flush()
    plan = Plan(
        region_id=a.id,
        code="plan-a",
        title="甲市行动计划",
        period_start=date(2020, 1, 1),
        period_end=date(2022, 12, 31),
        target_stars=4,
        target_date=date(2021, 10, 31),
    )
    plan_b = Plan(
        region_id=b.id,
        code="plan-b",
        title="乙县行动计划",
        period_start=date(2020, 1, 1),
        period_end=date(2023, 12, 31),
    )
    db.session.add_all([plan, plan_b])
    db.session.flush()
    node = PlanNode(plan_id=plan.id, key="n1", kind="program", title="智慧警务")
    node_b = PlanNode(plan_id=plan_b.id, key="n1", kind="program", title="一网通办")
    db.session.add_all([node, node_b])
    db.session.flush()

    def ms(key, title, due, lead, co=(), plan_=plan, node_=node, **kw):
        m = Milestone(
            plan_id=plan_.id,
            node=node_,
            key=key,
            title=title,
            text=f"完成{title}",
            due_date=due,
            baseline_due_date=due,
            lead_department=lead,
            **kw,
        )
        m.co_departments = list(co)
        db.session.add(m)
        return m

    m_police = ms("m1", "视频平台升级", date(2021, 3, 25), police, co=[transport])
    m_late = ms("m2", "警务云建设", date(2021, 2, 28), police, status="in_progress", percent=40)
    m_transport = ms("m3", "公交大数据系统", date(2021, 6, 30), transport)
    m_far = ms("m4", "警航一体化", date(2021, 12, 31), police)
    m_other = ms("b1", "乙县一网通办", date(2021, 5, 31), other, plan_=plan_b, node_=node_b)
    db.session.flush()
    db.session.add(Dependency(plan_id=plan.id, predecessor_id=m_late.id, successor_id=m_police.id))
    db.session.add(Dependency(plan_id=plan.id, predecessor_id=m_police.id, successor_id=m_far.id))
    ind = Indicator(
        plan_id=plan.id,
        key="i1",
        name="视频监控联网率",
        unit="%",
        four_star_op=">=",
        four_star_value=90,
        four_star_target="联网率达到90%",
    )
    db.session.add(ind)
    m_police.indicators = [ind]
    users = {
        "office": _user("office", "plan_office", a, office_dept),
        "police": _user("police", "department", a, police),
        "transport": _user("transport", "department", a, transport),
        "leader": _user("leader", "leading_group", a),
        "admin": _user("admin", "admin"),
        "province": _user("province", "province"),
        "other": _user("other", "department", b, other),
        "other_office": _user("other_office", "plan_office", b, other),
    }
    db.session.commit()
    world = World()
    world.ids.update({k: u.id for k, u in users.items()})
    world.ids.update(
        m_police=m_police.id,
        m_late=m_late.id,
        m_transport=m_transport.id,
        m_far=m_far.id,
        m_other=m_other.id,
        region_a=a.id,
        region_b=b.id,
        police_dept=police.id,
        transport_dept=transport.id,
        other_dept=other.id,
    )
    return world
