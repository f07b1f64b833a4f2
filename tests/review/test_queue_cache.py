"""The review queue is kept per process (app/section_cache.py) under the region's plans'
content versions: a report or value submitted, or one reviewed, shows at once."""

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Indicator, IndicatorValue, ProgressReport
from tests.conftest import login
from tests.factories import add_report, build_world


def queue(client) -> str:
    response = client.get("/review")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_submissions_and_reviews_reach_the_kept_queue(app, client):
    with app.app_context():
        w = build_world()
        report = add_report(w["m_police"], w["police_dept"], w["police"], "draft", text="联网平台已完成部署")
        db.session.commit()
        report_id = report.id
    login(client, "office")
    first = queue(client)
    assert "待审核的进展汇报（0）" in first and queue(client) == first

    with app.app_context():  # submitted
        db.session.get(ProgressReport, report_id).state = "submitted"
        db.session.commit()
    assert "待审核的进展汇报（1）" in queue(client)

    with app.app_context():  # a value entered for review
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        db.session.add(
            IndicatorValue(
                indicator_id=ind.id, as_of=date(2021, 3, 12), value_number=77.5, entered_by_id=w["police"]
            )
        )
        db.session.commit()
    assert "77.5" in queue(client)

    with app.app_context():  # reviewed elsewhere: gone at once
        db.session.get(ProgressReport, report_id).state = "returned"
        db.session.commit()
    assert "待审核的进展汇报（0）" in queue(client)

    other = app.test_client()
    login(other, "other_office")  # region B's office: none of region A's
    assert "77.5" not in queue(other)
