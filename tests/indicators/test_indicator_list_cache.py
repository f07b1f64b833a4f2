"""A plan's indicator list is kept per process (app/section_cache.py) under the plan's
content version, the date and the viewer's role and department: a value entered or
approved, or a department made responsible, shows at once; each viewer sees their own."""

import re
from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Department, Indicator, IndicatorValue
from tests.conftest import login
from tests.factories import build_world


def row(client) -> str:
    page = client.get("/plans/plan-a/indicators").get_data(as_text=True)
    found = re.search(r"<tr>(?:(?!</tr>).)*视频监控联网率.*?</tr>", page, re.S)
    return found[0] if found else ""


def test_values_and_responsibility_reach_the_kept_list(app, client):
    with app.app_context():
        w = build_world()
        ind_id = db.session.scalar(select(Indicator.id).where(Indicator.key == "i1"))
    login(client, "office")
    police = app.test_client()
    login(police, "police")
    assert "暂无" in row(client) and row(client) == row(client)
    assert row(police) == ""  # not the police's indicator

    with app.app_context():  # a value approved, another awaiting review
        db.session.add_all(
            [
                IndicatorValue(
                    indicator_id=ind_id,
                    as_of=date(2021, 3, 1),
                    value_number=82.5,
                    state="approved",
                    entered_by_id=w["police"],
                    reviewed_by_id=w["office"],
                    reviewed_at=datetime(2021, 3, 2, 9),
                ),
                IndicatorValue(
                    indicator_id=ind_id, as_of=date(2021, 3, 12), value_number=88, entered_by_id=w["police"]
                ),
            ]
        )
        db.session.commit()
    shown = row(client)
    assert "82.5" in shown and "截至 2021年3月1日" in shown and "88" in shown

    with app.app_context():  # the police made responsible: its own list shows it now
        db.session.get(Indicator, ind_id).departments = [db.session.get(Department, w["police_dept"])]
        db.session.commit()
    assert "82.5" in row(police)
    assert "甲市公安局" in row(client)
    transport = app.test_client()
    login(transport, "transport")  # a department user like the police, not responsible
    assert row(transport) == ""
