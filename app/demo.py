"""A small demo: one region, three departments, ten milestones with
dependencies, five indicators and one account per role. Idempotent."""

from datetime import date

from sqlalchemy import select

from app import audit
from app.extensions import db
from app.models import (
    Department,
    Dependency,
    Indicator,
    Milestone,
    Plan,
    PlanNode,
    Region,
    User,
)

DEMO_PASSWORD = "demo-pass-2021"
DEPARTMENTS = [
    ("示范市大数据中心", "public_institution"),
    ("示范市公安局", "government"),
    ("示范市交通运输局", "government"),
]
# (key, node, title, due, lead index, co indices, status, percent)
MILESTONES = [
    ("m1", "data", "数据共享交换平台扩容", date(2020, 12, 31), 0, [], "done", 100),
    ("m2", "data", "人口、法人基础库建设", date(2021, 3, 31), 0, [1], "in_progress", 60),
    ("m3", "brain", "城市大脑一期上线", date(2021, 6, 30), 0, [1, 2], "in_progress", 30),
    ("m4", "brain", "城市大脑二期：综合事件管理", date(2021, 12, 31), 0, [1], "not_started", 0),
    ("m5", "police", "视频结构化智能分析平台升级", date(2021, 2, 28), 1, [], "in_progress", 70),
    ("m6", "police", "警务航空一体化部署", date(2021, 9, 30), 1, [0], "not_started", 0),
    ("m7", "traffic", "公交大数据系统建设", date(2021, 3, 20), 2, [0], "in_progress", 80),
    ("m8", "traffic", "智能交通管控平台启动", date(2021, 8, 31), 2, [1], "not_started", 0),
    ("m9", "traffic", "公交电子站牌覆盖率达到10%", date(2021, 10, 31), 2, [], "not_started", 0),
    ("m10", "brain", "城市运行体征专题上线", date(2021, 4, 10), 0, [2], "in_progress", 20),
]
DEPENDENCIES = [
    ("m1", "m2"),
    ("m1", "m3"),
    ("m2", "m3"),
    ("m3", "m4"),
    ("m5", "m6"),
    ("m7", "m8"),
    ("m8", "m9"),
    ("m3", "m10"),
]
INDICATORS = [
    ("i1", "电子证照使用率", "%", 80, 85, 0),
    ("i2", "公共交通来车实时预报率", "%", 90, 100, 2),
    ("i3", "城市大脑建设", None, None, None, 0),
    ("i4", "视频监控联网率", "%", 90, 95, 1),
    ("i5", "数据共享开放水平", "%", 90, 95, 0),
]
ACCOUNTS = [  # username, display name, role, department index or None
    ("office", "统筹部门（大数据中心）", "plan_office", 0),
    ("police", "公安局联络员", "department", 1),
    ("transport", "交通运输局联络员", "department", 2),
    ("leader", "领导小组成员", "leading_group", None),
    ("admin", "系统管理员", "admin", None),
    ("province", "省大数据局", "province", None),
]


def _get_or_add(model, lookup: dict, **fields):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **fields)
        db.session.add(obj)
        db.session.flush()
    return obj


def load_demo() -> list[tuple[str, str, str]]:
    region = _get_or_add(Region, {"name": "示范市"}, kind="city")
    depts = [_get_or_add(Department, {"region_id": region.id, "name": n}, kind=k) for n, k in DEPARTMENTS]
    plan = _get_or_add(
        Plan,
        {"code": "demo-city"},
        region_id=region.id,
        title="示范市新型智慧城市建设行动计划（演示）",
        standard_code="sd-city-2019",
        period_start=date(2020, 1, 1),
        period_end=date(2022, 12, 31),
        target_stars=4,
        target_date=date(2021, 10, 31),
        targets=[{"stars": 4, "due": "2021-10-31"}, {"stars": 5, "due": "2022-12-31"}],
    )
    nodes = {}
    for pos, (key, title, lead) in enumerate(
        [
            ("data", "数据资源体系", 0),
            ("brain", "城市大脑", 0),
            ("police", "智慧警务", 1),
            ("traffic", "智慧交通", 2),
        ]
    ):
        nodes[key] = _get_or_add(
            PlanNode,
            {"plan_id": plan.id, "key": key},
            kind="program",
            title=title,
            position=pos,
            text=f"{title}相关建设任务。",
        )
        if not nodes[key].departments:
            nodes[key].departments.append(depts[lead])
    ms = {}
    for key, node, title, due, lead, co, status, percent in MILESTONES:
        m = db.session.scalar(select(Milestone).filter_by(plan_id=plan.id, key=key))
        if m is None:
            m = Milestone(
                plan_id=plan.id,
                key=key,
                node=nodes[node],
                title=title,
                text=f"完成{title}。",
                due_date=due,
                baseline_due_date=due,
                lead_department=depts[lead],
                status=status,
                percent=percent,
                actual_finish=due if status == "done" else None,
            )
            m.co_departments = [depts[i] for i in co]
            db.session.add(m)
            db.session.flush()
        ms[key] = m
    for pred, succ in DEPENDENCIES:
        _get_or_add(Dependency, {"predecessor_id": ms[pred].id, "successor_id": ms[succ].id}, plan_id=plan.id)
    for pos, (key, name, unit, four, five, dept) in enumerate(INDICATORS):
        ind = _get_or_add(
            Indicator,
            {"plan_id": plan.id, "key": key},
            name=name,
            unit=unit,
            position=pos,
            four_star_op=">=" if four is not None else None,
            four_star_value=four,
            four_star_target=f"{name}达到{four}%" if four else "建成并运行",
            four_star_due=date(2021, 10, 31),
            five_star_op=">=" if five else None,
            five_star_value=five,
            five_star_target=f"{name}达到{five}%" if five else "深化应用",
            five_star_due=date(2022, 12, 31),
        )
        if not ind.departments:
            ind.departments.append(depts[dept])
    ms["m9"].indicators = [db.session.scalar(select(Indicator).filter_by(plan_id=plan.id, key="i2"))]
    accounts = []
    for username, name, role, dept in ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                display_name=name,
                role=role,
                region_id=region.id if role in ("plan_office", "department", "leading_group") else None,
                department_id=depts[dept].id if dept is not None else None,
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            audit.record(None, "user.create", user, f"演示数据：创建用户 {username}")
        accounts.append((username, DEMO_PASSWORD, user.role_label))
    return accounts
