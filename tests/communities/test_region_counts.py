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
