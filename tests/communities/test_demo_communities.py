"""The demo's communities: both regions, marked demo, and the coverage written from them is
the value the stars read on the demo date."""

from datetime import date

from sqlalchemy import func, select

from app.communities import coverage
from app.extensions import db
from app.forecasting.known import standard_values
from app.models import Community, CommunityItem, Plan, Region, User


def test_demo_communities_give_the_coverage_the_stars_read(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        for code, region_name, number in (("weihai-1313", "威海市", "49"), ("zhangqiu-3n", "章丘区", "52")):
            region = db.session.scalar(select(Region).where(Region.name == region_name))
            state = coverage.region_state(region.id)
            assert 20 <= state.total <= 60 and 0 < state.smart < state.total
            assert all(c.demo for c in state.communities)
            counts = coverage.region_counts(region.id)  # the aggregate the stars page reads
            assert (counts.smart, counts.total, counts.rate) == (state.smart, state.total, state.rate)
            plan = db.session.scalar(select(Plan).where(Plan.code == code))
            values, sources = standard_values(plan, date(2021, 3, 15))
            assert values[number] == state.rate, (code, values[number], state.rate)
            # the street account's journey community: 24 of 25 approved, the last one open
            street = db.session.scalar(
                select(User).where(
                    User.username == ("wh-street" if code.startswith("weihai") else "zq-street")
                )
            )
            assert street.role == "street" and street.department.kind == "street"
            journey = [
                c
                for c in state.communities
                if c.street_id == street.department_id
                and state.met.get(c.id) == 24
                and "25" not in state.cells[c.id]
            ]
            assert len(journey) == 1
        assert (
            db.session.scalar(select(func.count(CommunityItem.id)).where(CommunityItem.state == "submitted"))
            > 0
        )
        assert db.session.scalar(select(func.count(Community.id))) >= 50
