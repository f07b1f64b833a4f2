"""The region's 智慧社区 counts read by aggregate (coverage written, the stars page's gap step)
are the matrix's counts: an item approved as not met does not make a community smart."""

from sqlalchemy import select

from app.communities import coverage
from app.extensions import db
from app.models import CommunityItem, Region


def test_an_item_approved_as_not_met_takes_a_community_out_of_the_count(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        region = db.session.scalar(select(Region).where(Region.name == "威海市"))
        before = coverage.region_counts(region.id)
        state = coverage.region_state(region.id)
        smart = next(c for c in state.communities if state.is_smart(c.id))
        item = state.cells[smart.id]["7"]
        assert item.state == "approved" and item.met
        item.met = False
        db.session.commit()

        after = coverage.region_counts(region.id)
        state = coverage.region_state(region.id)
        assert (after.smart, after.total) == (before.smart - 1, before.total)
        assert (after.smart, after.total, after.rate) == (state.smart, state.total, state.rate)
        assert db.session.get(CommunityItem, item.id).cell == "not_met"


def test_a_new_community_reaches_the_kept_stars_page_at_once(app, client):
    """星级测算 as opened is kept under the plan's content version: the region's communities
    count towards it, so the gap step's 现有 smart / total moves with a community added."""
    import re

    from app.demo import DEMO_PASSWORD
    from app.forecasting.snapshot import store_snapshot
    from app.models import Community, Department, Plan
    from tests.conftest import TEST_AS_OF, login

    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        store_snapshot(db.session.scalar(select(Plan).where(Plan.code == "weihai-1313")), TEST_AS_OF)
        db.session.commit()
    login(client, "wh-office", DEMO_PASSWORD)

    def step() -> tuple[int, int]:
        page = client.get("/plans/weihai-1313/stars").get_data(as_text=True)
        found = re.search(r"现有 (\d+) / (\d+) 个社区", page)
        assert found, "no community step on the page"
        return int(found[1]), int(found[2])

    smart, total = step()
    assert step() == (smart, total)
    with app.app_context():
        region = db.session.scalar(select(Region).where(Region.name == "威海市"))
        street = db.session.scalar(
            select(Department).where(Department.region_id == region.id, Department.kind == "street")
        )
        db.session.add(
            Community(region_id=region.id, street_id=street.id, name="新建测试社区", households=500)
        )
        db.session.commit()
    assert step() == (smart, total + 1)
