"""The send side of reminders, against a real database, a real SMTP server (aiosmtpd)
and a real HTTP server standing in for the DingTalk / WeCom robots."""

import threading
from datetime import date, datetime, timedelta

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Department,
    Milestone,
    Notice,
    Notification,
    NotificationSetting,
    OutboxMessage,
    ProgressReport,
    Reminder,
    ReminderDelivery,
    User,
)
from tests.factories import build_world
from tests.workflows.servers import Reply, closed_port, robot_server, smtp_server
from workflows import reminders_send, text
from workflows.queue import get_queue, redis_connection
from workflows.reminders_send import MAX_ATTEMPTS, send_pending
from workflows.reminders_upkeep import retry_delivery

TODAY = date(2021, 3, 15)  # the clock in tests (conftest TEST_AS_OF)
NOW = datetime(2021, 3, 15, 1, 0)  # UTC: 09:00 in Beijing, past the default digest hour (8)
EMAILS = {name: f"{name}@example.gov.cn" for name in ("police", "transport", "leader")}


@pytest.fixture(autouse=True)
def mail_settings(app, monkeypatch, tmp_path):
    """No SMTP unless a test starts one; the outbox file under tmp."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_PATH", str(tmp_path / "outbox" / "outbox.log"))
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5.0)
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 5.0)
    return tmp_path / "outbox" / "outbox.log"


@pytest.fixture
def world(ctx):
    w = build_world()
    for name, address in EMAILS.items():
        db.session.get(User, w[name]).email = address
    db.session.commit()
    return w


def use_smtp(app, monkeypatch, server, timeout=5.0):
    monkeypatch.setitem(app.config, "MAIL_SERVER", server.host)
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", timeout)


def robot(world, url, kind="dingtalk", dept="police_dept"):
    department = db.session.get(Department, world[dept])
    department.webhook_url = url
    department.webhook_kind = kind
    db.session.commit()


def immediate(world, *users):
    for user in users:
        db.session.add(NotificationSetting(user_id=world[user], digest=False))
    db.session.commit()


def remind(world, user="police", milestone="m_police", kind="before", slot=TODAY, channels=("in_app",), **kw):
    m = db.session.get(Milestone, world[milestone])
    r = Reminder(
        milestone_id=m.id,
        recipient_id=world[user],
        kind=kind,
        slot=slot,
        send_on=kw.pop("send_on", slot),
        due_date=kw.pop("due_date", m.due_date),
        days=(m.due_date - slot).days,
        **kw,
    )
    db.session.add(r)
    db.session.flush()
    for channel in channels:
        db.session.add(ReminderDelivery(reminder_id=r.id, channel=channel))
    db.session.commit()
    return r.id


def delivery(reminder_id, channel) -> ReminderDelivery:
    db.session.expire_all()
    return db.session.scalar(
        select(ReminderDelivery).where(
            ReminderDelivery.reminder_id == reminder_id, ReminderDelivery.channel == channel
        )
    )


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def statuses() -> dict:
    db.session.expire_all()
    out = {}
    for d in db.session.scalars(select(ReminderDelivery)):
        out[d.status] = out.get(d.status, 0) + 1
    return out


# --- messages -----------------------------------------------------------------


def _item(kind="before", due=date(2021, 3, 25), since=None):
    return text.Item(1, "视频平台升级", "甲市行动计划", "甲市公安局", kind, due, since)


def test_message_wording():
    assert text.cn_date(date(2021, 3, 25)) == "2021年3月25日"
    before = text.headline(_item(), date(2021, 3, 18))
    assert before == "【星途提醒】视频平台升级 将于 2021年3月25日 到期（还有 7 天）"
    due = text.headline(_item("due"), date(2021, 3, 25))
    assert due == "【星途提醒】视频平台升级 今天（2021年3月25日）到期"
    assert text.headline(_item("overdue"), date(2021, 4, 8)) == (
        "【星途提醒】视频平台升级 已逾期 14 天（到期日 2021年3月25日）"
    )
    assert text.headline(_item("escalate_overdue"), date(2021, 4, 8)).startswith(
        "【督办升级】视频平台升级 已逾期 14 天"
    )
    returned = text.headline(_item("escalate_returned", since=date(2021, 3, 10)), date(2021, 3, 15))
    assert returned.startswith("【督办升级】") and "2021年3月10日 被退回" in returned
    assert "已 5 天" in returned
    notice = text.headline(_item("escalate_notice", since=date(2021, 3, 12)), date(2021, 3, 15))
    assert notice.startswith("【督办升级】") and "2021年3月12日 前答复" in notice
    items = [_item(), _item("overdue", due=date(2021, 3, 1)), _item("escalate_overdue", due=date(2021, 2, 1))]
    message = text.digest(items, date(2021, 3, 15), "张三")
    assert message.subject == "【星途】今日待办提醒（3 项）"
    assert message.body.startswith("张三，您好：")
    assert message.body.count("/milestones/1") == 3 and "甲市行动计划 / 视频平台升级" in message.body
    assert "已逾期 14 天" in message.body and "还有 10 天到期" in message.body
    one = text.digest(items[:1], date(2021, 3, 15), "张三")
    assert one.subject == text.headline(items[0], date(2021, 3, 15))


def test_robot_payloads_and_wecom_limit():
    assert text.webhook_payload("dingtalk", "标题", "正文") == {
        "msgtype": "markdown",
        "markdown": {"title": "标题", "text": "正文"},
    }
    long = "\n".join(f"{n}. 视频平台升级 还有 10 天到期" for n in range(400))
    content = text.webhook_payload("wecom", "标题", long)["markdown"]["content"]
    assert len(content.encode()) <= text.WECOM_MAX_BYTES and content.endswith("其余请登录系统查看）")
    with pytest.raises(ValueError):
        text.webhook_payload("slack", "t", "x")


# --- in-app and the outbox ----------------------------------------------------


def test_in_app_and_outbox_mail_without_smtp(world, mail_settings):
    rid = remind(world, channels=("in_app", "email"))
    counts = send_pending(now=NOW)
    assert counts["in_app"]["sent"] == 1 and counts["email"]["sent"] == 1

    note = db.session.scalar(select(Notification).where(Notification.user_id == world["police"]))
    assert note.text == "【星途提醒】视频平台升级 将于 2021年3月25日 到期（还有 10 天）"
    assert note.link == f"/milestones/{world['m_police']}" and note.read_at is None
    mail = db.session.scalar(select(OutboxMessage))
    assert (mail.transport, mail.to_address) == ("outbox", "police@example.gov.cn")
    assert mail.user_id == world["police"]
    assert mail.subject == note.text and "甲市行动计划" in mail.body and "police，您好" in mail.body
    # The milestone's 三色 status as the pages show it (behind its 序时进度 since 2021-02-28).
    assert "三色状态：黄（进度 0%，落后序时进度 60%）" in mail.body
    log = mail_settings.read_text(encoding="utf-8")
    assert "To: police@example.gov.cn" in log and note.text in log

    for channel in ("in_app", "email"):
        d = delivery(rid, channel)
        assert (d.status, d.attempts, d.sent_at, d.error) == ("sent", 1, NOW, None)
    assert delivery(rid, "email").target == "police@example.gov.cn"
    assert mail.claim == delivery(rid, "email").claim

    send_pending(now=NOW + timedelta(minutes=15))  # a retried job: nothing goes twice
    assert count(Notification) == 1 and count(OutboxMessage) == 1
    assert log == mail_settings.read_text(encoding="utf-8")


def test_a_mail_without_address_fails_at_once(world):
    db.session.get(User, world["transport"]).email = None
    db.session.commit()
    rid = remind(world, user="transport", channels=("in_app", "email"))
    send_pending(now=NOW)
    d = delivery(rid, "email")
    assert d.status == "failed" and "邮箱地址" in d.error and d.attempts == 1
    assert delivery(rid, "in_app").status == "sent" and count(OutboxMessage) == 0


# --- SMTP -----------------------------------------------------------------------


def test_smtp_transient_451_is_retried_and_arrives_once(app, world, monkeypatch):
    rid = remind(world, channels=("email",))
    with smtp_server(data_replies=["451 4.3.0 Try again later"]) as smtp:
        use_smtp(app, monkeypatch, smtp)
        counts = send_pending(now=NOW)
        assert counts["email"]["retry"] == 1 and smtp.mails == [] and smtp.data_calls == 1
        d = delivery(rid, "email")
        assert (d.status, d.attempts, d.next_attempt_at) == ("pending", 1, NOW + timedelta(minutes=1))
        assert "451" in d.error

        send_pending(now=NOW + timedelta(seconds=30))  # not yet due again
        assert smtp.data_calls == 1 and delivery(rid, "email").status == "pending"

        counts = send_pending(now=NOW + timedelta(minutes=2))
        assert counts["email"] == {"sent": 1, "retry": 0, "failed": 0, "cancelled": 0, "messages": 1}
        send_pending(now=NOW + timedelta(minutes=30))
        assert len(smtp.mails) == 1
        mail = smtp.mails[0]
        assert mail.rcpt_tos == ["police@example.gov.cn"]
        assert mail.subject == "【星途提醒】视频平台升级 将于 2021年3月25日 到期（还有 10 天）"
        assert "牵头部门：甲市公安局" in mail.body and f"/milestones/{world['m_police']}" in mail.body
    d = delivery(rid, "email")
    assert (d.status, d.attempts, d.sent_at, d.target, d.error) == (
        "sent",
        2,
        NOW + timedelta(minutes=2),
        "police@example.gov.cn",
        None,
    )
    sent = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.transport, m.subject) for m in sent] == [("smtp", mail.subject)]
    assert mail.message["Message-ID"] == f"<{d.claim}@localhost>"


def test_smtp_three_retries_then_failed_and_admin_retry(app, world, monkeypatch):
    rid = remind(world, channels=("email",))
    with smtp_server(data_replies=["451 4.7.1 Greylisted"] * MAX_ATTEMPTS) as smtp:
        use_smtp(app, monkeypatch, smtp)
        at = NOW
        for attempt in range(1, MAX_ATTEMPTS + 1):
            send_pending(now=at)
            d = delivery(rid, "email")
            assert d.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert d.status == "pending"
                at = d.next_attempt_at
        assert smtp.data_calls == MAX_ATTEMPTS == 4
        assert at == NOW + timedelta(minutes=1 + 5 + 15)
        d = delivery(rid, "email")
        assert d.status == "failed" and "451" in d.error and "4 次" in d.error
        send_pending(now=at + timedelta(hours=1))
        assert smtp.data_calls == 4 and smtp.mails == [] and delivery(rid, "email").status == "failed"

        # The admin sees it failed and retries it; the server now accepts.
        later = at + timedelta(hours=2)
        assert retry_delivery(d.id, now=later) is True
        db.session.commit()
        assert retry_delivery(d.id, now=later) is False  # no longer failed
        send_pending(now=later)
        assert len(smtp.mails) == 1
    d = delivery(rid, "email")
    assert (d.status, d.attempts) == ("sent", 1)


def test_smtp_recipient_refused_fails_at_once(app, world, monkeypatch):
    rid = remind(world, channels=("email",))
    with smtp_server(rcpt_replies=["550 5.1.1 Mailbox unavailable"]) as smtp:
        use_smtp(app, monkeypatch, smtp)
        counts = send_pending(now=NOW)
        send_pending(now=NOW + timedelta(hours=1))
        assert smtp.data_calls == 0 and smtp.mails == []
    d = delivery(rid, "email")
    assert counts["email"]["failed"] == 1
    assert (d.status, d.attempts, d.next_attempt_at) == ("failed", 1, None) and "550" in d.error


def test_smtp_connection_refused_is_transient(app, world, monkeypatch):
    rid = remind(world, channels=("email",))
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port())
    send_pending(now=NOW)
    d = delivery(rid, "email")
    assert (d.status, d.attempts) == ("pending", 1), d.error
    assert "连接被拒绝" in d.error


def test_smtp_answer_lost_after_data_is_not_resent(app, world, monkeypatch):
    """The server took the data but answered too late: it may have delivered, so no retry."""
    rid = remind(world, channels=("email",))
    with smtp_server(data_delay=1.5) as smtp:
        use_smtp(app, monkeypatch, smtp, timeout=0.5)
        send_pending(now=NOW)
        d = delivery(rid, "email")
        assert d.status == "failed" and "可能已送达" in d.error
        assert smtp.data_calls == 1  # the whole message reached the server
        send_pending(now=NOW + timedelta(hours=1))
        assert smtp.data_calls == 1 and delivery(rid, "email").status == "failed"


# --- webhooks -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
def test_robot_receives_markdown(world, kind):
    rid = remind(world, channels=("webhook",))
    with robot_server() as server:
        robot(world, server.url(), kind)
        counts = send_pending(now=NOW)
    assert counts["webhook"]["sent"] == 1 and len(server.requests) == 1
    posted = server.requests[0]
    assert posted.path == "/robot/send?access_token=secret-token"
    assert posted.headers["Content-Type"].startswith("application/json")
    body = posted.json
    headline = "【星途提醒】视频平台升级 将于 2021年3月25日 到期（还有 10 天）"
    if kind == "dingtalk":
        assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
        assert body["markdown"]["title"] == headline
        markdown = body["markdown"]["text"]
    else:
        assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"content"}
        markdown = body["markdown"]["content"]
    assert markdown.startswith(f"#### {headline}")
    assert "- 牵头部门：甲市公安局" in markdown and f"[查看详情](/milestones/{world['m_police']})" in markdown
    assert markdown.endswith(text.MARKDOWN_FOOTER)
    d = delivery(rid, "webhook")
    assert d.status == "sent" and d.target == f"{kind}:127.0.0.1:{server.port}"
    assert "secret" not in d.target


def test_robot_links_use_the_base_url(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BASE_URL", "https://starpath.example.gov.cn")
    remind(world, channels=("webhook",))
    with robot_server() as server:
        robot(world, server.url())
        send_pending(now=NOW)
    link = f"(https://starpath.example.gov.cn/milestones/{world['m_police']})"
    assert link in server.requests[0].json["markdown"]["text"]


def test_robot_http_500_is_retried(world):
    rid = remind(world, channels=("webhook",))
    with robot_server([Reply(500, "oops")]) as server:
        robot(world, server.url())
        send_pending(now=NOW)
        d = delivery(rid, "webhook")
        assert (d.status, d.attempts) == ("pending", 1) and "HTTP 500" in d.error
        send_pending(now=NOW + timedelta(minutes=1))
    assert len(server.requests) == 2 and delivery(rid, "webhook").status == "sent"
    assert server.requests[0].raw == server.requests[1].raw


@pytest.mark.parametrize(
    "reply,status,words",
    [
        (Reply(200, {"errcode": 310000, "errmsg": "keywords not in content"}), "failed", "310000"),
        (Reply(200, {"errcode": 130101, "errmsg": "send too fast"}), "pending", "130101"),
        (Reply(429, "slow down"), "pending", "HTTP 429"),
        (Reply(404, "no such robot"), "failed", "HTTP 404"),
    ],
)
def test_robot_answers(world, reply, status, words):
    rid = remind(world, channels=("webhook",))
    with robot_server([reply]) as server:
        robot(world, server.url(), "dingtalk")
        send_pending(now=NOW)
    d = delivery(rid, "webhook")
    assert (d.status, d.attempts) == (status, 1) and words in d.error


def test_robot_unreachable_is_transient_and_a_lost_answer_is_not(app, world, monkeypatch):
    rid = remind(world, channels=("webhook",))
    robot(world, f"http://127.0.0.1:{closed_port()}/robot/send")
    send_pending(now=NOW)
    d = delivery(rid, "webhook")
    assert d.status == "pending" and "无法连接" in d.error

    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 0.3)
    with robot_server([Reply(200, delay=1.0)]) as server:
        robot(world, server.url())
        send_pending(now=NOW + timedelta(minutes=1))
        d = delivery(rid, "webhook")
        assert d.status == "failed" and "可能已送达" in d.error
        send_pending(now=NOW + timedelta(hours=1))
    assert len(server.requests) == 1


def test_a_department_chat_hears_of_an_item_once(world):
    """Two users of one department with the same reminder: one post; a third later: none."""
    police = db.session.get(User, world["police"])
    second = User(username="police2", display_name="police2", role="department", password_hash="x")
    second.region_id, second.department_id = police.region_id, police.department_id
    third = User(username="police3", display_name="police3", role="department", password_hash="x")
    third.region_id, third.department_id = police.region_id, police.department_id
    db.session.add_all([second, third])
    db.session.commit()
    world.ids.update(police2=second.id, police3=third.id)
    a = remind(world, user="police", channels=("webhook",))
    b = remind(world, user="police2", channels=("webhook",))
    with robot_server() as server:
        robot(world, server.url())
        send_pending(now=NOW)
        assert len(server.requests) == 1
        c = remind(world, user="police3", channels=("webhook",))
        send_pending(now=NOW + timedelta(minutes=15))
        assert len(server.requests) == 1
    assert {delivery(r, "webhook").status for r in (a, b, c)} == {"sent"}
    assert delivery(a, "webhook").claim == delivery(b, "webhook").claim != delivery(c, "webhook").claim
    assert "该部门群已收到此提醒" in delivery(c, "webhook").target


# --- digest and immediate -------------------------------------------------------


def _three_items(world, channels=("in_app", "email", "webhook")):
    return [
        remind(world, milestone="m_police", kind="before", channels=channels),
        remind(world, milestone="m_late", kind="overdue", channels=channels),
        remind(world, milestone="m_far", kind="before", channels=channels),
    ]


def test_digest_user_gets_one_message_per_channel(world):
    ids = _three_items(world)
    with robot_server() as server:
        robot(world, server.url())
        counts = send_pending(now=NOW)
    assert [counts[c]["messages"] for c in ("in_app", "email", "webhook")] == [1, 1, 1]
    assert [counts[c]["sent"] for c in ("in_app", "email", "webhook")] == [3, 3, 3]
    note = db.session.scalar(select(Notification))
    assert note.text.startswith("【星途】今日待办提醒（3 项）：") and note.link == "/my"
    assert "〔红〕警务云建设（已逾期 15 天）" in note.text
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.subject == "【星途】今日待办提醒（3 项）"
    for title in ("视频平台升级", "警务云建设", "警航一体化"):
        assert f"甲市行动计划 / {title}" in mail.body
    assert "到期日 2021年2月28日，已逾期 15 天" in mail.body
    assert "〔红〕甲市行动计划 / 警务云建设" in mail.body and "〔黄〕甲市行动计划 / 视频平台升级" in mail.body
    assert "到期日 2021年12月31日" in mail.body
    markdown = server.requests[0].json["markdown"]
    assert markdown["title"] == "【星途】今日待办提醒（3 项）" and markdown["text"].count("/milestones/") == 3
    for channel in ("in_app", "email", "webhook"):
        claims = {delivery(r, channel).claim for r in ids}
        assert len(claims) == 1 and None not in claims


def test_immediate_user_gets_one_message_per_reminder(world):
    immediate(world, "police")
    _three_items(world)
    with robot_server() as server:
        robot(world, server.url())
        counts = send_pending(now=NOW)
    assert count(Notification) == 3 and count(OutboxMessage) == 3 and len(server.requests) == 3
    assert counts["email"]["messages"] == 3
    subjects = sorted(m.subject for m in db.session.scalars(select(OutboxMessage)))
    assert all(s.startswith("【星途提醒】") for s in subjects)
    assert "【星途提醒】警务云建设 已逾期 15 天（到期日 2021年2月28日）" in subjects


def test_digest_waits_for_the_hour_and_comes_once_a_day(world):
    """The digest rule is for mail and chat: mail waits for the hour, then one a day."""
    _three_items(world, channels=("email",))
    early = datetime(2021, 3, 14, 23, 30)  # 07:30 in Beijing on 15 March
    counts = send_pending(now=early)
    assert counts["held"] == 3 and count(OutboxMessage) == 0
    send_pending(now=datetime(2021, 3, 15, 0, 0))  # 08:00
    assert count(OutboxMessage) == 1

    late = remind(world, milestone="m_transport", channels=("email",))
    counts = send_pending(now=datetime(2021, 3, 15, 2, 0))  # 10:00: today's digest already went
    assert counts["held"] == 1 and count(OutboxMessage) == 1
    send_pending(now=datetime(2021, 3, 15, 23, 0))  # 07:00 next day: before the hour
    assert count(OutboxMessage) == 1
    send_pending(now=datetime(2021, 3, 16, 0, 5))  # 08:05 next day
    assert count(OutboxMessage) == 2 and delivery(late, "email").status == "sent"


def test_in_app_messages_never_wait_for_the_digest(world):
    """A digest user's 站内消息 arrive at once, before the digest hour and again later the
    same day; the mail of the same reminders still waits for the hour."""
    first = _three_items(world, channels=("in_app", "email"))
    counts = send_pending(now=datetime(2021, 3, 14, 23, 30))  # 07:30 in Beijing
    assert count(Notification) == 1 and counts["in_app"]["sent"] == 3
    assert {delivery(r, "in_app").status for r in first} == {"sent"}
    assert counts["held"] == 3 and count(OutboxMessage) == 0
    note = db.session.scalar(select(Notification))
    assert note.text.startswith("【星途】今日待办提醒（3 项）：")

    send_pending(now=datetime(2021, 3, 15, 0, 30))  # 08:30: the day's mail digest
    assert count(OutboxMessage) == 1 and count(Notification) == 1  # no second in-app copy
    late = remind(world, milestone="m_transport", channels=("in_app", "email"))
    counts = send_pending(now=datetime(2021, 3, 15, 2, 0))  # 10:00: after today's mail digest
    assert count(Notification) == 2 and delivery(late, "in_app").status == "sent"
    assert delivery(late, "email").status == "pending" and counts["held"] == 1  # mail: one a day


def test_send_now_ignores_the_digest_hour(world):
    _three_items(world, channels=("in_app",))
    send_pending(now=datetime(2021, 3, 14, 20, 0), respect_digest=False)
    assert count(Notification) == 1 and statuses() == {"sent": 3}


def test_a_reminder_due_later_waits(world):
    rid = remind(world, slot=date(2021, 3, 18), channels=("in_app",))
    send_pending(now=NOW)
    assert delivery(rid, "in_app").status == "pending" and count(Notification) == 0


def test_opted_out_and_inactive_users_get_nothing(world):
    db.session.add(NotificationSetting(user_id=world["police"], email=False))
    db.session.get(User, world["transport"]).active = False
    db.session.commit()
    mine = remind(world, channels=("in_app", "email"))
    theirs = remind(world, user="transport", channels=("in_app",))
    send_pending(now=NOW)
    assert delivery(mine, "in_app").status == "sent"
    assert delivery(mine, "email").status == "cancelled" and "关闭邮件" in delivery(mine, "email").error
    assert delivery(theirs, "in_app").status == "cancelled" and count(OutboxMessage) == 0


# --- at most once ---------------------------------------------------------------


def test_two_sends_at_once_deliver_each_row_once(app, world, monkeypatch):
    """Two send runs in two threads, each with its own app context and session."""
    immediate(world, "police", "transport", "leader")
    rids = []
    for user in ("police", "transport", "leader"):
        for milestone in ("m_police", "m_late", "m_transport", "m_far"):
            channels = ("in_app", "email", "webhook") if user != "leader" else ("in_app", "email")
            rids.append(remind(world, user=user, milestone=milestone, channels=channels))
    total = count(ReminderDelivery)
    with smtp_server() as smtp, robot_server() as server:
        use_smtp(app, monkeypatch, smtp)
        robot(world, server.url(), "dingtalk", "police_dept")
        robot(world, server.url("/transport"), "wecom", "transport_dept")
        barrier = threading.Barrier(2)
        results, errors = [], []

        def run():
            try:
                with app.app_context():
                    barrier.wait()
                    results.append(send_pending(now=NOW))
                    db.session.remove()
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == [] and len(results) == 2
        assert statuses() == {"sent": total}
        assert len(smtp.mails) == 12 and count(OutboxMessage, OutboxMessage.transport == "smtp") == 12
        assert sorted(m.rcpt_tos[0] for m in smtp.mails) == sorted(list(EMAILS.values()) * 4)
        # Each department chat hears of each of its items once: police 4, transport 4.
        assert len(server.requests) == 8
    assert count(Notification) == 12
    sent = {c: sum(r[c]["sent"] for r in results if c in r) for c in ("in_app", "email", "webhook")}
    assert sent == {"in_app": 12, "email": 12, "webhook": 8}


def test_a_send_killed_while_sending_is_never_repeated(world):
    rid = remind(world, channels=("in_app", "email"))
    stale, fresh = delivery(rid, "email"), delivery(rid, "in_app")
    for row, claim, minutes in ((stale, "dead-worker", 11), (fresh, "busy-worker", 2)):
        row.status, row.claim, row.attempts = "sending", claim, 1
        row.claimed_at = NOW - timedelta(minutes=minutes)
    db.session.commit()
    counts = send_pending(now=NOW)
    assert counts["expired"] == 1
    d = delivery(rid, "email")
    assert d.status == "failed" and "为避免重复发送" in d.error and d.claim == "dead-worker"
    assert delivery(rid, "in_app").status == "sending"  # still within its lease
    send_pending(now=NOW + timedelta(hours=1))
    assert count(OutboxMessage) == 0 and count(Notification) == 0
    assert delivery(rid, "in_app").status == "failed"


# --- cancellation ---------------------------------------------------------------


def test_a_finished_milestone_cancels_its_reminders(world):
    rid = remind(world, channels=("in_app", "email"))
    m = db.session.get(Milestone, world["m_police"])
    m.status, m.percent = "done", 100
    db.session.commit()
    counts = send_pending(now=NOW)
    assert counts["cancelled"] == 1 and count(Notification) == 0 and count(OutboxMessage) == 0
    reminder = db.session.get(Reminder, rid)
    assert (reminder.status, reminder.cancelled_reason) == ("cancelled", "里程碑已完成")
    assert {delivery(rid, c).status for c in ("in_app", "email")} == {"cancelled"}


def test_a_new_due_date_cancels_the_old_reminders(world):
    old = remind(world, channels=("in_app",))
    m = db.session.get(Milestone, world["m_police"])
    m.due_date = date(2021, 4, 30)
    db.session.commit()
    new = remind(world, kind="before", slot=date(2021, 3, 14), send_on=TODAY, channels=("in_app",))
    send_pending(now=NOW)
    assert db.session.get(Reminder, old).cancelled_reason == "到期日已调整为 2021年4月30日"
    assert delivery(old, "in_app").status == "cancelled" and delivery(new, "in_app").status == "sent"
    note = db.session.scalar(select(Notification))
    assert note.text == "【星途提醒】视频平台升级 将于 2021年4月30日 到期（还有 46 天）"


def test_escalations_stop_when_answered(world):
    police = db.session.get(User, world["police"])
    report = ProgressReport(
        milestone_id=world["m_late"],
        department_id=police.department_id,
        author_id=police.id,
        text="进展",
        percent=50,
        claimed_status="in_progress",
        state="returned",
        reviewed_at=datetime(2021, 3, 8, 2, 0),
    )
    notice = Notice(
        milestone_id=world["m_late"],
        department_id=police.department_id,
        issued_by_id=world["leader"],
        text="请说明",
        reply_due=date(2021, 3, 12),
    )
    db.session.add_all([report, notice])
    db.session.commit()
    returned = remind(world, user="leader", milestone="m_late", kind="escalate_returned", report_id=report.id)
    noticed = remind(world, user="leader", milestone="m_late", kind="escalate_notice", notice_id=notice.id)
    report.state = "submitted"
    notice.state, notice.replied_at = "answered", datetime(2021, 3, 14, 1, 0)
    db.session.commit()
    send_pending(now=NOW)
    assert db.session.get(Reminder, returned).cancelled_reason == "退回的汇报已重新提交"
    assert db.session.get(Reminder, noticed).cancelled_reason == "督办单已反馈"
    assert count(Notification) == 0


def test_an_escalation_reads_as_one(world):
    immediate(world, "leader")
    remind(world, user="leader", milestone="m_late", kind="escalate_overdue", channels=("in_app",))
    send_pending(now=NOW)
    note = db.session.scalar(select(Notification))
    assert note.text.startswith("【督办升级】警务云建设 已逾期 15 天（到期日 2021年2月28日）")
    assert note.link == f"/milestones/{world['m_late']}"


# --- the job --------------------------------------------------------------------


def test_the_queued_job_sends(app, world):
    immediate(world, "police")
    rid = remind(world, channels=("in_app",))
    reminders_send.enqueue_send()
    reminders_send.enqueue_send()  # still waiting: the same job
    queue = get_queue("high")
    assert queue.job_ids == [reminders_send.JOB_ID]
    conn = redis_connection(app)
    SimpleWorker([queue], connection=conn, serializer=JSONSerializer).work(burst=True)
    assert delivery(rid, "in_app").status == "sent" and count(Notification) == 1
