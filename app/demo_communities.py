"""Demo communities for both demo regions (marked demo): real 街道 names, a plausible
number of communities each, and an assessment state as of the demo date — some
communities approved on all 25 items (智慧社区), others part way, a few items waiting
for review or returned — with the coverage rate they give written as a dated
measurement, as an approval would. One community of each demo street account has 24
items approved and the last one open, for the street → review → coverage → stars journey."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.engines import community as rules
from app.extensions import db
from app.models import Community, CommunityItem, Department, Region, User
from app.models.community import STREET_KIND

# region → [(street, communities, smart ones)]
STREETS = {
    "威海市": [
        ("环翠楼街道", 8, 3),
        ("鲸园街道", 7, 2),
        ("竹岛街道", 8, 3),
        ("孙家疃街道", 6, 1),
        ("怡园街道", 7, 2),
        ("田和街道", 6, 1),
    ],
    "章丘区": [
        ("明水街道", 7, 2),
        ("双山街道", 6, 2),
        ("枣园街道", 5, 1),
        ("龙山街道", 4, 1),
        ("埠村街道", 4, 1),
        ("圣井街道", 5, 1),
    ],
}
JOURNEY_STREETS = {"威海市": "环翠楼街道", "章丘区": "明水街道"}
NAMES = [
    "东苑", "西苑", "南山", "北岭", "新华", "建设", "和平", "幸福", "翠园", "海景", "文化", "怡和",
    "锦华", "泉水", "百合", "阳光", "滨河", "福山", "青松", "华夏",
]  # fmt: skip
COVERAGE_DAY = date(2021, 3, 12)


def _stamp(day: date):
    return utcnow().replace(
        year=day.year, month=day.month, day=day.day, hour=2, minute=0, second=0, microsecond=0
    )


def ensure_streets() -> None:
    """The 街道 / 镇 offices of the demo regions (kind street), before the demo accounts."""
    for region_name, streets in STREETS.items():
        region = db.session.scalar(select(Region).where(Region.name == region_name))
        if region is None:
            continue
        for name, _, _ in streets:
            exists = db.session.scalar(
                select(Department.id).where(Department.region_id == region.id, Department.name == name)
            )
            if exists is None:
                db.session.add(Department(region_id=region.id, name=name, kind=STREET_KIND))
    db.session.flush()


def good_numbers(number: str, households: int) -> dict:
    """Numbers meeting the item's formulas for a community of `households`."""
    residents = round(households * 2.6)
    return {
        "1": {"fiber_households": households},
        "3": {"tv_households": math.ceil(households * 0.6)},
        "8": {"smart_lights": 70, "lights": 100, "kwh_plain": 10000.0, "kwh_smart": 7500.0},
        "9": {"gov_services": 4},
        "11": {"online_shops": 7, "shops": 10},
        "12": {"shared_spaces": 12, "spaces": 150},
        "13": {"health_records": math.ceil(residents * 0.85), "residents": residents},
        "14": {"response_minutes": 10.0},
        "23": {"police_items": 8, "safety_items": 10},
    }.get(number, {})


def _short_numbers(number: str, households: int) -> dict:
    """Numbers that fall short of the formulas (an item approved as not met)."""
    nums = good_numbers(number, households)
    if number == "1":
        return {"fiber_households": households - max(1, households // 20)}
    if number == "8":
        return {**nums, "kwh_smart": 8800.0}
    if number == "12":
        return {"shared_spaces": 5, "spaces": 150}
    return nums


def load(users: dict[str, User]) -> None:
    from app.communities.coverage import record_coverage, standard_items

    numbers = [i["number"] for i in standard_items()]
    for region_name, streets in STREETS.items():
        region = db.session.scalar(select(Region).where(Region.name == region_name))
        if region is None:
            continue
        prefix = "wh" if region_name == "威海市" else "zq"
        office, street_user = users[f"{prefix}-office"], users[f"{prefix}-street"]
        rng = random.Random(f"communities/{region_name}")
        for street_name, count, smart in streets:
            street = db.session.scalar(
                select(Department).where(Department.region_id == region.id, Department.name == street_name)
            )
            author = street_user if street.id == street_user.department_id else office
            names = rng.sample(NAMES, count)
            for k, short in enumerate(names):
                households = rng.randrange(600, 3200, 10)
                c = Community(
                    region_id=region.id,
                    street_id=street.id,
                    name=f"{street_name.removesuffix('街道')}{short}社区",
                    households=households,
                    demo=True,
                )
                db.session.add(c)
                if k < smart:
                    plan = {n: "met" for n in numbers}
                elif k == smart and street_name == JOURNEY_STREETS[region_name]:
                    plan = {n: "met" for n in numbers[:-1]}  # the last item is left for the journey
                else:
                    plan = {}
                    done = rng.randint(0, 22)
                    for n in rng.sample(numbers, done):
                        plan[n] = rng.choices(["met", "not_met", "pending", "returned"], [70, 12, 12, 6])[0]
                for position, n in enumerate(numbers):
                    if n in plan:
                        _item(c, n, position, plan[n], households, author, office, rng)
    db.session.flush()
    for region_name in STREETS:
        region = db.session.scalar(select(Region).where(Region.name == region_name))
        if region is not None:
            office = users["wh-office" if region_name == "威海市" else "zq-office"]
            record_coverage(region.id, office, as_of=COVERAGE_DAY, stamp=_stamp(COVERAGE_DAY))


def _item(c, number, position, kind, households, author, office, rng) -> None:
    day = date(2021, 1, 10) + timedelta(days=rng.randint(0, 55))
    met = kind != "not_met"
    item = CommunityItem(
        community=c,
        number=number,
        position=position,
        met=met,
        numbers=(good_numbers if met else _short_numbers)(number, households) or None,
        note="演示数据",
        author_id=author.id,
        submitted_at=_stamp(day),
    )
    reviewed = _stamp(day + timedelta(days=3))
    if kind in ("met", "not_met"):
        item.state, item.reviewed_by_id, item.reviewed_at = "approved", office.id, reviewed
    elif kind == "returned":
        item.state, item.reviewed_by_id, item.reviewed_at = "returned", office.id, reviewed
        item.return_reason = "佐证材料不全，请补充现场照片。"
    else:
        item.state = "submitted"
    # A not-met claim must not pass its formulas, and a met one must (the same rule as the form).
    results = rules.measure(number, item.numbers or {}, households)
    assert rules.claim_error(number, met, results) is None
    db.session.add(item)
