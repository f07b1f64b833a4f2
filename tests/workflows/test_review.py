"""The report review state machine."""

import pytest
from sqlalchemy import select

from app import clock
from app.dates import local_date
from app.extensions import db
from app.models import AuditEvent, Milestone, Notification, ProgressReport, User
from tests.factories import build_world
from workflows import review


def test_transition_table():
    assert review.next_state("draft", "submit") == "submitted"
    assert review.next_state("returned", "submit") == "submitted"
    assert review.next_state("submitted", "approve") == "approved"
    assert review.next_state("submitted", "return") == "returned"
    for state, action in [
        ("draft", "approve"),
        ("approved", "return"),
        ("approved", "submit"),
        ("returned", "approve"),
        ("submitted", "submit"),
    ]:
        with pytest.raises(review.TransitionError):
            review.next_state(state, action)


@pytest.mark.parametrize("percent,status", [(100, "in_progress"), (80, "done"), (101, "in_progress")])
def test_claims_must_be_consistent(percent, status):
    with pytest.raises(review.TransitionError):
        review.validate_claim(percent, status)


def _report(world, percent=100, status="done", kind="lead", user="police"):
    author = db.session.scalar(select(User).where(User.username == user))
    m = db.session.get(Milestone, world["m_police"])
    r = ProgressReport(
        milestone=m,
        department_id=author.department_id,
        author_id=author.id,
        kind=kind,
        text="完成",
        percent=percent,
        claimed_status=status,
        state="draft",
    )
    db.session.add(r)
    review.submit(r, author)
    db.session.commit()
    return r, m


def test_approve_moves_the_milestone(ctx):
    world = build_world()
    r, m = _report(world)
    office = db.session.get(User, world["office"])
    review.approve(r, office)
    db.session.commit()
    assert (m.percent, m.status, m.actual_finish) == (100, "done", clock.today())
    # With the clock pinned (2021-03-15 here) the approval lands on the clock's date in
    # Beijing time, so pages and forecasts "as of today" see it; the audit row keeps the real time.
    assert local_date(r.reviewed_at) == clock.today() == local_date(r.submitted_at)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.milestone_id == m.id)).all()
    assert {"report.submit", "report.approve", "milestone.progress"} <= set(actions)


def test_approving_a_part_does_not_move_the_milestone(ctx):
    world = build_world()
    r, m = _report(world, percent=50, status="in_progress", kind="part", user="transport")
    review.approve(r, db.session.get(User, world["office"]))
    db.session.commit()
    assert (m.percent, m.status) == (0, "not_started")
    assert r.state == "approved"


def test_return_needs_a_reason_and_notifies(ctx):
    world = build_world()
    r, m = _report(world, percent=50, status="in_progress")
    office = db.session.get(User, world["office"])
    with pytest.raises(review.TransitionError, match="退回原因"):
        review.return_(r, office, "  ")
    review.return_(r, office, "缺少验收报告")
    db.session.commit()
    assert r.state == "returned" and r.return_reason == "缺少验收报告"
    texts = db.session.scalars(select(Notification.text).where(Notification.user_id == world["police"])).all()
    assert any("缺少验收报告" in t for t in texts)
    # The department fixes it and submits again; the reason is cleared.
    review.submit(r, db.session.get(User, world["police"]))
    assert r.state == "submitted" and r.return_reason is None
