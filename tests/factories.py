"""A small world for tests: two regions, departments, users of every role,
milestones with dependencies and co-departments."""

from dataclasses import dataclass, field
from datetime import date

from app.extensions import db
from app.models import (
    Department,
    Dependency,
    Indicator,
    Milestone,
    Plan,
    PlanNode,
    ProgressReport,
    Region,
    User,
)

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


def add_report(milestone_id, dept, author, state, text=None, percent=30):
    """A lead report of a department on a milestone, in the given state (flushed)."""
    r = ProgressReport(
        milestone_id=milestone_id,
        department_id=dept,
        author_id=author,
        kind="lead",
        text=text or f"{state}进展",
        percent=percent,
        claimed_status="in_progress",
        state=state,
    )
    db.session.add(r)
    db.session.flush()
    return r


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
        node_a=node.id,
        region_a=a.id,
        region_b=b.id,
        police_dept=police.id,
        transport_dept=transport.id,
        other_dept=other.id,
    )
    return world


def build_matrix_world() -> World:
    """build_world plus one object of every kind a route takes an id of, in region A (on
    milestones led by 甲市公安局 = department A) and in region B (led by 乙县大数据局).

    A: a draft report (m_far) and a submitted report (m_late) of department A, each with an
    evidence file on disk; a 督办 to department A; an indicator department A answers for with a
    submitted value; the m_police → m_far dependency; a bulletin. B: the same on plan-b. Also a
    reminder delivery, an outbox message and a holiday for the admin pages."""

    from app import uploads
    from app.bulletins.content import build as bulletin_content
    from app.bulletins.content import week_of
    from app.models import (
        Bulletin,
        Evidence,
        Holiday,
        IndicatorValue,
        Notice,
        OutboxMessage,
        Reminder,
        ReminderDelivery,
    )

    w = build_world()
    plan_b = db.session.scalar(db.select(Plan).where(Plan.code == "plan-b"))
    m_other = db.session.get(Milestone, w["m_other"])
    other = db.session.get(Department, w["other_dept"])
    m_other2 = Milestone(
        plan_id=plan_b.id,
        node=m_other.node,
        key="b2",
        title="乙县数据共享",
        text="完成乙县数据共享",
        due_date=date(2021, 8, 31),
        baseline_due_date=date(2021, 8, 31),
        lead_department=other,
    )
    db.session.add(m_other2)
    db.session.flush()
    dep_a = db.session.scalar(db.select(Dependency).where(Dependency.successor_id == w["m_far"]))
    dep_b = Dependency(plan_id=plan_b.id, predecessor_id=m_other2.id, successor_id=m_other.id)
    db.session.add(dep_b)

    def evidence(r, uploader, tag):
        stored = f"matrix-{tag}-".ljust(40, "0")
        (uploads.storage_dir() / stored).write_bytes(b"%PDF-1.4 matrix")
        e = Evidence(
            report_id=r.id,
            milestone_id=r.milestone_id,
            uploaded_by_id=uploader,
            original_name=f"{tag}.pdf",
            stored_name=stored,
            sha256="0" * 64,
            size=15,
            content_type="application/pdf",
        )
        db.session.add(e)
        return e

    draft_a = add_report(w["m_far"], w["police_dept"], w["police"], "draft")
    submitted_a = add_report(w["m_late"], w["police_dept"], w["police"], "submitted")
    draft_b = add_report(w["m_other"], w["other_dept"], w["other"], "draft")
    submitted_b = add_report(m_other2.id, w["other_dept"], w["other"], "submitted")
    ev = {
        "draft_evidence_a": evidence(draft_a, w["police"], "draft-a"),
        "evidence_a": evidence(submitted_a, w["police"], "submitted-a"),
        "draft_evidence_b": evidence(draft_b, w["other"], "draft-b"),
        "evidence_b": evidence(submitted_b, w["other"], "submitted-b"),
    }
    notice_a = Notice(
        milestone_id=w["m_far"],
        department_id=w["police_dept"],
        issued_by_id=w["leader"],
        text="请加快",
        reply_due=date(2021, 4, 1),
    )
    notice_b = Notice(
        milestone_id=w["m_other"],
        department_id=w["other_dept"],
        issued_by_id=w["other_office"],
        text="请加快",
        reply_due=date(2021, 4, 1),
    )
    ind_a = Indicator(plan_id=draft_a.milestone.plan_id, key="ia", name="警情处置率", unit="%")
    ind_a.departments = [db.session.get(Department, w["police_dept"])]
    ind_b = Indicator(plan_id=plan_b.id, key="ib", name="网办率", unit="%")
    ind_b.departments = [other]
    values = {}
    for tag, ind, who in (("a", ind_a, w["police"]), ("b", ind_b, w["other"])):
        values[tag] = IndicatorValue(
            indicator=ind, as_of=date(2021, 3, 1), value_number=30, state="submitted", entered_by_id=who
        )
    db.session.flush()
    bulletins = {
        tag: Bulletin(
            plan_id=plan_.id,
            kind="on_demand",
            week=week_of(date(2021, 3, 15)),
            as_of=date(2021, 3, 15),
            data=bulletin_content(plan_, date(2021, 3, 15), "on_demand"),
        )
        for tag, plan_ in (("a", draft_a.milestone.plan), ("b", plan_b))
    }
    reminder = Reminder(
        milestone_id=w["m_far"],
        recipient_id=w["police"],
        kind="due",
        slot=date(2021, 12, 31),
        send_on=date(2021, 12, 31),
        due_date=date(2021, 12, 31),
    )
    delivery = ReminderDelivery(reminder=reminder, channel="email", status="failed", attempts=1)
    outbox = OutboxMessage(user_id=w["police"], to_address="police@example.cn", subject="提醒", body="正文")
    holiday = Holiday(day=date(2021, 5, 3), name="劳动节")
    db.session.add_all(
        [notice_a, notice_b, ind_a, ind_b, *values.values(), *bulletins.values(), delivery, outbox, holiday]
    )
    db.session.commit()
    w.ids.update({k: e.id for k, e in ev.items()})
    w.ids.update(
        m_other2=m_other2.id,
        draft_a=draft_a.id,
        report_a=submitted_a.id,
        draft_b=draft_b.id,
        report_b=submitted_b.id,
        notice_a=notice_a.id,
        notice_b=notice_b.id,
        indicator_a=ind_a.id,
        indicator_b=ind_b.id,
        value_a=values["a"].id,
        value_b=values["b"].id,
        dependency_a=dep_a.id,
        dependency_b=dep_b.id,
        bulletin_a=bulletins["a"].id,
        bulletin_b=bulletins["b"].id,
        delivery=delivery.id,
        outbox=outbox.id,
        holiday=holiday.id,
        plan_a=draft_a.milestone.plan_id,
        plan_b=plan_b.id,
    )
    return add_communities(w)


def add_areas(k: int, start: int = 0) -> None:
    """K more areas, each with its own region, two departments, users of every regional role,
    a plan with two nodes and three milestones (one dependency, one co-department), submitted
    and returned reports, an indicator with a value, a 督办, a reminder with a delivery, an
    outbox message, a notification, an audit row and a stored forecast run: everything a page
    could (wrongly) read once per area. Also one more user and one more notification in region
    A (甲市公安局), so per-user lists grow too."""

    from app.models import (
        AuditEvent,
        Community,
        CommunityItem,
        ForecastRun,
        IndicatorValue,
        Notice,
        Notification,
        OutboxMessage,
        ProgressReport,
        Reminder,
        ReminderDelivery,
    )

    for i in range(start, start + k):
        region = Region(name=f"扩展{i}区", kind="county")
        db.session.add(region)
        db.session.flush()
        office = Department(region_id=region.id, name=f"扩展{i}区大数据局")
        dept = Department(region_id=region.id, name=f"扩展{i}区公安局")
        db.session.add_all([office, dept])
        db.session.flush()
        plan = Plan(
            region_id=region.id,
            code=f"area-{i}",
            title=f"扩展{i}区行动计划",
            period_start=date(2020, 1, 1),
            period_end=date(2022, 12, 31),
            target_stars=4,
            target_date=date(2021, 10, 31),
        )
        db.session.add(plan)
        db.session.flush()
        root = PlanNode(plan_id=plan.id, key="n1", kind="program", title="示范工程")
        db.session.add(root)
        db.session.flush()
        child = PlanNode(plan_id=plan.id, key="n2", kind="project", title="重点项目", parent_id=root.id)
        db.session.add(child)
        db.session.flush()
        ms = []
        for j, (due, status) in enumerate(
            (
                (date(2021, 1, 31), "in_progress"),
                (date(2021, 3, 20), "not_started"),
                (date(2021, 9, 30), "done"),
            )
        ):
            m = Milestone(
                plan_id=plan.id,
                node_id=child.id if j else root.id,
                key=f"m{j}",
                title=f"扩展{i}区里程碑{j}",
                text="完成",
                due_date=due,
                baseline_due_date=due,
                lead_department_id=dept.id,
                status=status,
            )
            m.co_departments = [office]
            db.session.add(m)
            ms.append(m)
        db.session.flush()
        db.session.add(Dependency(plan_id=plan.id, predecessor_id=ms[0].id, successor_id=ms[1].id))
        users = {
            role: _user(f"area{i}-{role}", role, region, office if role == "plan_office" else dept)
            for role in ("department", "plan_office")
        }
        users["leading_group"] = _user(f"area{i}-leading_group", "leading_group", region)
        db.session.flush()
        for m, state in ((ms[0], "submitted"), (ms[1], "returned")):
            db.session.add(
                ProgressReport(
                    milestone_id=m.id,
                    department_id=dept.id,
                    author_id=users["department"].id,
                    kind="lead",
                    text="进展",
                    percent=30,
                    claimed_status="in_progress",
                    state=state,
                )
            )
        ind = Indicator(plan_id=plan.id, key="i1", name=f"扩展{i}区指标", unit="%")
        ind.departments = [dept]
        db.session.add(ind)
        db.session.add(
            IndicatorValue(
                indicator=ind,
                as_of=date(2021, 3, 1),
                value_number=50,
                state="submitted",
                entered_by_id=users["department"].id,
            )
        )
        db.session.add(
            Notice(
                milestone_id=ms[0].id,
                department_id=dept.id,
                issued_by_id=users["leading_group"].id,
                text="请加快",
                reply_due=date(2021, 3, 10),
            )
        )
        reminder = Reminder(
            milestone_id=ms[0].id,
            recipient_id=users["department"].id,
            kind="overdue",
            slot=date(2021, 3, 1),
            send_on=date(2021, 3, 1),
            due_date=ms[0].due_date,
        )
        db.session.add(ReminderDelivery(reminder=reminder, channel="email", status="sent", attempts=1))
        db.session.add(
            OutboxMessage(
                user_id=users["department"].id, to_address=f"a{i}@example.cn", subject="提醒", body="正文"
            )
        )
        db.session.add(Notification(user_id=users["department"].id, text="请处理", link="/my"))
        db.session.add(
            AuditEvent(
                user_id=users["plan_office"].id,
                action="milestone.edit",
                object_type="milestone",
                object_id=ms[0].id,
                summary="修改",
                milestone_id=ms[0].id,
                region_id=region.id,
            )
        )
        db.session.add(
            ForecastRun(
                plan_id=plan.id,
                as_of=date(2021, 3, 1),
                target_date=date(2021, 10, 31),
                data_key=f"k{i}",
                result={},
            )
        )
        # A 街道 with a community whose first item waits for review.
        street = Department(region_id=region.id, name=f"扩展{i}区城关街道", kind="street")
        db.session.add(street)
        db.session.flush()
        community = Community(
            region_id=region.id, street_id=street.id, name=f"扩展{i}区幸福社区", households=100
        )
        db.session.add_all(
            [
                community,
                CommunityItem(community=community, number="1", position=0, met=True, state="submitted"),
            ]
        )
    police = db.session.scalar(db.select(Department).where(Department.name == "甲市公安局"))
    extra = _user(f"police-extra-{start}", "department", police.region, police)
    db.session.flush()
    db.session.add(Notification(user_id=extra.id, text="请处理", link="/my"))
    db.session.commit()


def add_communities(w: World) -> World:
    """A 街道 office with a user and one community in each region (甲市东城街道 / 乙县城关镇),
    each community with a submitted item 1 carrying one evidence file."""
    from flask import current_app  # noqa: F401  (an app context is required)

    from app import uploads
    from app.models import Community, CommunityEvidence, CommunityItem

    for tag, region_key, street_name, username in (
        ("a", "region_a", "甲市东城街道", "street"),
        ("b", "region_b", "乙县城关镇", "other_street"),
    ):
        street = Department(region_id=w[region_key], name=street_name, kind="street")
        db.session.add(street)
        db.session.flush()
        region = db.session.get(Region, w[region_key])
        user = _user(username, "street", region, street)
        c = Community(region_id=region.id, street_id=street.id, name=f"{street_name}幸福社区", households=200)
        item = CommunityItem(
            community=c,
            number="1",
            position=0,
            met=True,
            numbers={"fiber_households": 200},
            state="submitted",
        )
        db.session.add_all([c, item])
        db.session.flush()
        item.author_id = user.id
        stored = f"community-evidence-{tag}-{c.id}".ljust(40, "0")
        (uploads.storage_dir() / stored).write_bytes(b"%PDF-1.4 test")
        ev = CommunityEvidence(
            item_id=item.id,
            uploaded_by_id=user.id,
            original_name="光纤.pdf",
            stored_name=stored,
            sha256="0" * 64,
            size=13,
            content_type="application/pdf",
        )
        db.session.add(ev)
        db.session.flush()
        w.ids.update(
            {
                f"street_dept_{tag}": street.id,
                username: user.id,
                f"community_{tag}": c.id,
                f"community_item_{tag}": item.id,
                f"community_evidence_{tag}": ev.id,
            }
        )
    db.session.commit()
    return w


def grow_region(w: World, k: int, start: int = 0) -> None:
    """K more of everything inside the matrix world's own region A and plan-a, where
    add_areas grows only other areas. Per step: a department with a user; a project node
    under node_a; a milestone of plan-a (on that node, or every other one on node_a
    itself), led by 甲市公安局 or the new department in turn, with 甲市交通运输局 and the new
    department as co-departments, depending on the previous one and on m_police, with a
    submitted report carrying evidence and a returned one, a 督办 to its lead, a failed
    reminder and an audit row; an indicator of plan-a with a value (and one more value of
    indicator_a); the new department's report on m_police; a notification for police; a
    community under 甲市东城街道 with a submitted, an approved and a returned item (one with
    evidence). A page whose count grows with these reads once per row."""

    from app import uploads
    from app.models import (
        AuditEvent,
        Community,
        CommunityEvidence,
        CommunityItem,
        Evidence,
        IndicatorValue,
        Notice,
        Notification,
        ProgressReport,
        Reminder,
        ReminderDelivery,
    )

    police = db.session.get(Department, w["police_dept"])
    transport = db.session.get(Department, w["transport_dept"])
    node = db.session.get(PlanNode, w["node_a"])
    region = db.session.get(Region, w["region_a"])
    indicator = db.session.get(Indicator, w["indicator_a"])
    previous = db.session.get(Milestone, w["m_far"])
    m_police = db.session.get(Milestone, w["m_police"])
    for i in range(start, start + k):
        dept = Department(region_id=region.id, name=f"甲市扩展局{i}")
        db.session.add(dept)
        db.session.flush()
        user = _user(f"grow-{i}", "department", region, dept)
        due = date(2021, 4 + i % 8, 10 + i % 15)
        # A project under the world's node per step, so per-node reads show up too; every
        # other milestone goes on the world's node itself, so its list of milestones grows.
        child = PlanNode(plan_id=node.plan_id, key=f"g{i}", kind="project", title=f"扩展项目{i}", parent=node)
        db.session.add(child)
        m = Milestone(
            plan_id=node.plan_id,
            node=node if i % 2 == 0 else child,
            key=f"g{i}",
            title=f"扩展里程碑{i}",
            text=f"完成扩展里程碑{i}",
            due_date=due,
            baseline_due_date=due,
            lead_department=police if i % 2 == 0 else dept,
            status="in_progress" if i % 3 else "not_started",
            percent=10 * (i % 10),
        )
        m.co_departments = [transport, dept]
        # One more indicator of the plan per step (answered by police and the new department).
        extra = Indicator(plan_id=node.plan_id, key=f"g{i}", name=f"扩展指标{i}", unit="%")
        extra.departments = [police, dept]
        db.session.add(
            IndicatorValue(
                indicator=extra,
                as_of=date(2021, 3, 1),
                value_number=i,
                state="submitted",
                entered_by_id=w["police"],
            )
        )
        m.indicators = [indicator, extra]
        db.session.add(m)
        db.session.flush()
        author = w["police"] if m.lead_department_id == police.id else user.id
        db.session.add(Dependency(plan_id=node.plan_id, predecessor_id=previous.id, successor_id=m.id))
        db.session.add(Dependency(plan_id=node.plan_id, predecessor_id=m_police.id, successor_id=m.id))
        previous = m
        # The new department also works on m_police (its page lists co-departments, reports
        # and successors) and reports there.
        m_police.co_departments.append(dept)
        db.session.add(
            ProgressReport(
                milestone_id=m_police.id,
                department_id=dept.id,
                author_id=user.id,
                kind="part",
                text=f"配合进展{i}",
                percent=50,
                claimed_status="in_progress",
                state="submitted",
            )
        )
        reminder = Reminder(
            milestone_id=m.id,
            recipient_id=author,
            kind="due",
            slot=due,
            send_on=due,
            due_date=due,
        )
        db.session.add(ReminderDelivery(reminder=reminder, channel="email", status="failed", attempts=1))
        # The lead's report waits for review; 甲市交通运输局's (a co-department) was returned.
        for state, dept_id, by, kind in (
            ("submitted", m.lead_department_id, author, "lead"),
            ("returned", transport.id, w["transport"], "part"),
        ):
            r = ProgressReport(
                milestone_id=m.id,
                department_id=dept_id,
                author_id=by,
                kind=kind,
                text=f"{state}进展{i}",
                percent=20,
                claimed_status="in_progress",
                state=state,
            )
            db.session.add(r)
            db.session.flush()
            if state == "submitted":
                stored = f"grow-{i}-{r.id}-".ljust(40, "0")
                (uploads.storage_dir() / stored).write_bytes(b"%PDF-1.4 grow")
                db.session.add(
                    Evidence(
                        report_id=r.id,
                        milestone_id=m.id,
                        uploaded_by_id=by,
                        original_name=f"grow-{i}.pdf",
                        stored_name=stored,
                        sha256="0" * 64,
                        size=13,
                        content_type="application/pdf",
                    )
                )
        db.session.add(
            Notice(
                milestone_id=m.id,
                department_id=m.lead_department_id,
                issued_by_id=w["leader"],
                text=f"请加快{i}",
                reply_due=date(2021, 4, 1),
            )
        )
        db.session.add(
            IndicatorValue(
                indicator=indicator,
                as_of=date(2021, 3, 2 + i % 20),
                value_number=40 + i,
                state="submitted",
                entered_by_id=w["police"],
            )
        )
        db.session.add(Notification(user_id=w["police"], text=f"请处理{i}", link="/my"))
        db.session.add(
            AuditEvent(
                user_id=w["office"],
                action="milestone.edit",
                object_type="milestone",
                object_id=m.id,
                summary="修改",
                milestone_id=m.id,
                region_id=region.id,
            )
        )
        # Every other community under a street of its own: per-street reads show up too.
        street_id = w["street_dept_a"]
        if i % 2:
            street = Department(region_id=region.id, name=f"甲市扩展街道{i}", kind="street")
            db.session.add(street)
            db.session.flush()
            street_id = street.id
        c = Community(region_id=region.id, street_id=street_id, name=f"甲市扩展社区{i}", households=100 + i)
        items = [
            CommunityItem(
                community=c, number="1", position=0, met=True, state="submitted", author_id=w["street"]
            ),
            CommunityItem(
                community=c,
                number="2",
                position=1,
                met=True,
                state="approved",
                author_id=w["street"],
                reviewed_by_id=w["office"],
            ),
            CommunityItem(
                community=c,
                number="3",
                position=2,
                met=False,
                state="returned",
                return_reason="请补充",
                author_id=w["street"],
                reviewed_by_id=w["office"],
            ),
        ]
        db.session.add_all([c, *items])
        db.session.flush()
        stored = f"grow-community-{i}-{c.id}-".ljust(40, "0")
        (uploads.storage_dir() / stored).write_bytes(b"%PDF-1.4 grow")
        db.session.add(
            CommunityEvidence(
                item_id=items[0].id,
                uploaded_by_id=w["street"],
                original_name=f"社区{i}.pdf",
                stored_name=stored,
                sha256="0" * 64,
                size=13,
                content_type="application/pdf",
            )
        )
    db.session.commit()
