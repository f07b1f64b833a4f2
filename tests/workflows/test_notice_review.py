"""The 督办 loop's state machine: each step allowed or refused, who may take it, the
audit rows on the milestone's history and the message to the other side."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Department, Milestone, Notice, Notification, User
from tests.factories import build_world
from workflows import notice_review
from workflows.notice_review import NotAllowed, TransitionError


@pytest.fixture
def world(ctx):
    return build_world()


def user(world, name) -> User:
    return db.session.get(User, world[name])


def issue(world, issuer="leader", dept="police_dept", milestone="m_late") -> Notice:
    m = db.session.get(Milestone, world[milestone])
    notice = notice_review.issue(
        m, db.session.get(Department, world[dept]), user(world, issuer), "请说明延误原因", date(2021, 3, 20)
    )
    db.session.commit()
    return notice


def messages(world, name) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.text).where(Notification.user_id == world[name]).order_by(Notification.id)
        )
    )


def actions(notice) -> list[tuple[str, dict, dict]]:
    return [
        (e.action, e.before, e.after)
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "Notice", AuditEvent.object_id == notice.id)
            .order_by(AuditEvent.id)
        )
    ]


def test_the_whole_loop_with_a_send_back(world):
    notice = issue(world)
    assert notice.state == "issued" and messages(world, "police") == [
        "督办：警务云建设（请签收，并于3月20日前反馈）"
    ]
    notice_review.acknowledge(notice, user(world, "police"))
    db.session.commit()
    assert notice.state == "acknowledged" and notice.acknowledged_by_id == world["police"]
    assert messages(world, "leader") == ["甲市公安局已签收督办单：警务云建设"]

    notice_review.answer(notice, user(world, "police"), "设备到货延迟，4月完成")
    db.session.commit()
    assert notice.state == "answered" and notice.reply_text == "设备到货延迟，4月完成"
    assert messages(world, "leader")[-1] == "甲市公安局已反馈督办单，请复核：警务云建设"

    with pytest.raises(TransitionError, match="退回原因"):
        notice_review.send_back(notice, user(world, "leader"), "  ")
    notice_review.send_back(notice, user(world, "leader"), "请附到货证明")
    db.session.commit()
    assert notice.state == "returned" and notice.review_note == "请附到货证明"
    assert messages(world, "police")[-1] == "督办单反馈被退回，需重新办理：警务云建设。退回原因：请附到货证明"

    notice_review.answer(notice, user(world, "police"), "附到货证明，4月10日完成")
    notice_review.accept(notice, user(world, "leader"))
    db.session.commit()
    assert notice.state == "closed" and notice.closed_at is not None
    assert messages(world, "police")[-1] == "督办单已办结（复核通过）：警务云建设"
    assert [(r.number, r.outcome) for r in notice.rounds] == [(1, "returned"), (2, "accepted")]
    assert notice.rounds[0].review_note == "请附到货证明"
    assert [a[0] for a in actions(notice)] == [
        "notice.issue",
        "notice.acknowledge",
        "notice.answer",
        "notice.return",
        "notice.answer",
        "notice.accept",
    ]
    assert actions(notice)[3][1:] == ({"state": "answered"}, {"state": "returned", "reason": "请附到货证明"})
    # Every step is on the milestone's history.
    assert set(
        db.session.scalars(select(AuditEvent.milestone_id).where(AuditEvent.object_type == "Notice"))
    ) == {world["m_late"]}


def test_answering_an_issued_notice_records_the_acknowledgement_first(world):
    notice = issue(world)
    notice_review.answer(notice, user(world, "police"), "已安排")
    db.session.commit()
    assert notice.state == "answered" and notice.acknowledged_by_id == world["police"]
    assert [(a, b, c.get("state")) for a, b, c in actions(notice)][1:] == [
        ("notice.acknowledge", {"state": "issued"}, "acknowledged"),
        ("notice.answer", {"state": "acknowledged"}, "answered"),
    ]


@pytest.mark.parametrize(
    "state, action",
    [
        ("acknowledged", "acknowledge"),
        ("answered", "acknowledge"),
        ("answered", "answer"),
        ("closed", "answer"),
        ("issued", "accept"),
        ("acknowledged", "accept"),
        ("returned", "accept"),
        ("closed", "accept"),
        ("issued", "return"),
        ("returned", "return"),
        ("closed", "return"),
    ],
)
def test_steps_refused_in_the_wrong_state(world, state, action):
    notice = issue(world)
    notice.state = state
    db.session.commit()
    step = {
        "acknowledge": lambda: notice_review.acknowledge(notice, user(world, "police")),
        "answer": lambda: notice_review.answer(notice, user(world, "police"), "答复"),
        "accept": lambda: notice_review.accept(notice, user(world, "leader")),
        "return": lambda: notice_review.send_back(notice, user(world, "leader"), "原因"),
    }[action]
    with pytest.raises(TransitionError, match="督办单当前状态为"):
        step()
    db.session.rollback()
    assert db.session.get(Notice, notice.id).state == state


def test_who_may_take_each_step(world):
    notice = issue(world)  # issued by the leader to 公安局
    for name in ("transport", "leader", "office", "other"):
        with pytest.raises(NotAllowed):
            notice_review.acknowledge(notice, user(world, name))
    notice_review.answer(notice, user(world, "police"), "答复")
    db.session.commit()
    # The department cannot close its own notice; neither can another issuer while the issuer is active.
    for name in ("police", "transport", "office", "other_office", "province"):
        with pytest.raises(NotAllowed):
            notice_review.accept(notice, user(world, name))
        assert not notice_review.may(user(world, name), notice, "accept")
    assert notice_review.may(user(world, "leader"), notice, "accept")
    assert notice.state == "answered"


def test_when_the_issuer_is_gone_the_region_issuers_review(world):
    notice = issue(world)
    notice_review.answer(notice, user(world, "police"), "答复")
    user(world, "leader").active = False
    db.session.commit()
    assert [u.username for u in notice_review.reviewers(notice)] == ["office"]
    assert not notice_review.may_review(user(world, "other_office"), notice)  # another region
    assert notice_review.may_review(user(world, "office"), notice)
    notice_review.accept(notice, user(world, "office"))
    db.session.commit()
    assert notice.state == "closed" and notice.reviewed_by_id == world["office"]


def test_issue_checks_department_and_date(world):
    m = db.session.get(Milestone, world["m_late"])
    with pytest.raises(TransitionError, match="不是该里程碑的牵头或配合部门"):
        notice_review.issue(
            m,
            db.session.get(Department, world["transport_dept"]),
            user(world, "leader"),
            "x",
            date(2021, 3, 20),
        )
    with pytest.raises(TransitionError, match="不能早于今天"):
        notice_review.issue(
            m, db.session.get(Department, world["police_dept"]), user(world, "leader"), "x", date(2021, 3, 1)
        )
    with pytest.raises(NotAllowed):
        notice_review.issue(
            m, db.session.get(Department, world["police_dept"]), user(world, "police"), "x", date(2021, 3, 20)
        )
