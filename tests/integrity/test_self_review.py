"""A report, or an indicator value, is approved or returned by someone other than
the person who wrote it: the plan office reporting for its own department needs a
colleague to review."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Indicator, Milestone, ProgressReport, User
from tests.conftest import csrf_from, login
from tests.factories import PASSWORD, build_world
from workflows import indicator_review, review


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        office = db.session.get(User, w["office"])
        # The plan office's own department leads a milestone; a second plan-office user.
        db.session.get(Milestone, w["m_transport"]).lead_department_id = office.department_id
        colleague = User(
            username="office2",
            display_name="统筹二",
            role="plan_office",
            region_id=office.region_id,
            department_id=office.department_id,
        )
        colleague.set_password(PASSWORD)
        db.session.add(colleague)
        db.session.commit()
        w.ids["office2"] = colleague.id
        return w


def _own_report(client, world) -> ProgressReport:
    milestone_id = world["m_transport"]
    data = {
        "csrf_token": csrf_from(client, f"/milestones/{milestone_id}/report"),
        "percent": 30,
        "claimed_status": "in_progress",
        "text": "本中心的进展",
        "action": "submit",
    }
    response = client.post(
        f"/milestones/{milestone_id}/report", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    return db.session.scalars(select(ProgressReport)).one()


def _review_fields(client, report: ProgressReport) -> dict:
    token = csrf_from(client, f"/review/reports/{report.id}")
    db.session.refresh(report)
    return {"csrf_token": token, "version": report.version, "milestone_version": report.milestone.version}


@pytest.mark.parametrize("action", ["approve", "return"])
def test_the_author_cannot_review_their_own_report(app, client, ctx, world, action):
    login(client, "office")
    report = _own_report(client, world)
    data = _review_fields(client, report) | {"reason": "自己退回"}
    response = client.post(f"/review/reports/{report.id}/{action}", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "不能审核本人撰写的汇报" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ProgressReport, report.id).state == "submitted"
    assert db.session.get(Milestone, world["m_transport"]).percent == 0

    login(client, "office2")  # a colleague may
    data = _review_fields(client, report) | {"reason": "请补充材料"}
    response = client.post(f"/review/reports/{report.id}/{action}", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert (
        db.session.get(ProgressReport, report.id).state
        == {"approve": "approved", "return": "returned"}[action]
    )


def test_workflow_refuses_self_review(ctx, world):
    office = db.session.get(User, world["office"])
    r = ProgressReport(
        milestone_id=world["m_transport"],
        department_id=office.department_id,
        author_id=office.id,
        kind="lead",
        text="进展",
        percent=20,
        claimed_status="in_progress",
        state="draft",
    )
    db.session.add(r)
    review.submit(r, office)
    with pytest.raises(review.TransitionError, match="不能审核本人撰写的汇报"):
        review.approve(r, office)
    with pytest.raises(review.TransitionError, match="不能审核本人撰写的汇报"):
        review.return_(r, office, "理由")
    assert r.state == "submitted"


def test_indicator_values_need_another_reviewer(ctx, world):
    office, colleague = db.session.get(User, world["office"]), db.session.get(User, world["office2"])
    ind = db.session.scalars(select(Indicator)).one()
    row = indicator_review.submit_value(ind, 80, date(2021, 3, 1), None, None, office, shown="80%")
    with pytest.raises(indicator_review.TransitionError, match="不能审核本人录入"):
        indicator_review.approve_value(row, office)
    with pytest.raises(indicator_review.TransitionError, match="不能审核本人录入"):
        indicator_review.return_value(row, office, "理由")
    assert row.state == "submitted"
    indicator_review.approve_value(row, colleague)
    assert row.state == "approved" and row.reviewed_by_id == colleague.id


def test_the_plan_office_entry_still_counts_at_once(app, client, ctx, world):
    """Entered on the indicator page by the plan office: confirmed in the same step (own_entry)."""
    login(client, "office")
    ind_id = db.session.scalars(select(Indicator.id)).one()
    token = csrf_from(client, f"/indicators/{ind_id}")
    response = client.post(
        f"/indicators/{ind_id}/values",
        data={"csrf_token": token, "value": "85", "as_of": "2021-03-01", "source": "统计", "note": ""},
        follow_redirects=True,
    )
    assert "数值已录入并确认" in response.get_data(as_text=True)
