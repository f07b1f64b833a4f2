"""/admin/reminders: one row per reminder and channel, filters, paging, 重新发送; /admin/outbox."""

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage, Plan, Reminder, ReminderDelivery
from tests.conftest import csrf_from, login
from tests.factories import build_world
from workflows.queue import get_queue, redis_connection

ROW = re.compile(r'data-testid="delivery-(\d+)"')


def _reminder(milestone, recipient, kind, slot, days, deliveries, due=date(2021, 3, 25)):
    r = Reminder(
        milestone_id=milestone,
        recipient_id=recipient,
        kind=kind,
        slot=slot,
        send_on=slot,
        due_date=due,
        days=days,
    )
    db.session.add(r)
    db.session.flush()
    out = {}
    for channel, fields in deliveries.items():
        d = ReminderDelivery(reminder_id=r.id, channel=channel, **fields)
        db.session.add(d)
        db.session.flush()
        out[channel] = d.id
    return out


@pytest.fixture
def log(app):
    with app.app_context():
        w = build_world()
        sent = {"status": "sent", "attempts": 1, "sent_at": datetime(2021, 3, 18, 0, 5)}
        ids = {}
        ids["before"] = _reminder(
            w["m_police"],
            w["police"],
            "before",
            date(2021, 3, 18),
            7,
            {"email": {**sent, "target": "police@example.cn"}, "in_app": dict(sent)},
        )
        ids["overdue"] = _reminder(
            w["m_late"],
            w["police"],
            "overdue",
            date(2021, 3, 7),
            -7,
            {
                "email": {
                    "status": "failed",
                    "attempts": 3,
                    "target": "police@example.cn",
                    "error": "SMTP 550 邮箱不可用",
                    "claim": "batch-1",
                }
            },
            due=date(2021, 2, 28),
        )
        ids["transport"] = _reminder(
            w["m_transport"],
            w["transport"],
            "before",
            date(2021, 5, 31),
            30,
            {"webhook": {"status": "pending"}},
            due=date(2021, 6, 30),
        )
        ids["other"] = _reminder(
            w["m_other"],
            w["other"],
            "due",
            date(2021, 5, 31),
            0,
            {"in_app": dict(sent)},
            due=date(2021, 5, 31),
        )
        db.session.commit()
        plan_b = db.session.scalar(select(Plan.id).where(Plan.code == "plan-b"))
        return w, ids, plan_b


def _rows(client, query=""):
    page = client.get(f"/admin/reminders{query}")
    assert page.status_code == 200
    return {int(i) for i in ROW.findall(page.get_data(as_text=True))}, page.get_data(as_text=True)


def test_log_lists_every_delivery_with_chinese_labels(client, log):
    w, ids, _ = log
    login(client, "admin")
    rows, page = _rows(client)
    assert rows == {d for group in ids.values() for d in group.values()}
    assert "到期前提醒（提前 7 天）" in page
    assert "逾期提醒（逾期 7 天）" in page
    assert "当日到期" in page
    assert "发送失败" in page and "SMTP 550 邮箱不可用" in page
    assert "police@example.cn" in page
    assert f'href="/milestones/{w["m_police"]}"' in page
    # Only the failed delivery offers 重新发送.
    assert page.count("重新发送</button>") == 1


def test_filters(client, log):
    w, ids, plan_b = log
    login(client, "admin")
    assert _rows(client, "?status=failed")[0] == {ids["overdue"]["email"]}
    assert _rows(client, f"?plan={plan_b}")[0] == {ids["other"]["in_app"]}
    assert _rows(client, f"?department={w['transport_dept']}")[0] == {ids["transport"]["webhook"]}
    assert _rows(client, "?kind=overdue")[0] == {ids["overdue"]["email"]}
    assert _rows(client, "?channel=webhook")[0] == {ids["transport"]["webhook"]}
    assert _rows(client, "?slot_from=2021-03-10&slot_to=2021-03-31")[0] == set(ids["before"].values())
    assert _rows(client, "?channel=email&status=sent")[0] == {ids["before"]["email"]}
    # Nonsense values of the choice and date fields are ignored rather than failing the page.
    assert len(_rows(client, "?status=bogus&slot_from=2021-13-45&kind=x&page=zz")[0]) == 5


def test_plan_and_department_are_typed_text(client, log):
    """No list of every plan and department on the page: the filters are text, matched in the
    database (part of a title or code, part of a department name; digits alone are an id)."""
    w, ids, plan_b = log
    login(client, "admin")
    assert _rows(client, "?plan=乙县")[0] == {ids["other"]["in_app"]}
    assert _rows(client, "?plan=plan-b")[0] == {ids["other"]["in_app"]}
    assert _rows(client, "?department=交通")[0] == {ids["transport"]["webhook"]}
    assert _rows(client, "?plan=%20%E4%B9%99%E5%8E%BF%20")[0] == {ids["other"]["in_app"]}  # trimmed
    rows, page = _rows(client, "?plan=x")
    assert rows == set() and "没有符合条件的提醒记录" in page
    assert 'value="x"' in page  # the typed text stays in the box
    # LIKE wildcards are taken literally; an id beyond the key range finds nothing.
    assert _rows(client, "?plan=%25")[0] == set()
    assert _rows(client, "?plan=_")[0] == set()
    assert _rows(client, "?department=99999999999")[0] == set()
    assert "<option" not in page.split('id="f-kind"')[0]  # no plan or department list


def test_paging_keeps_the_filters(app, client, log):
    w, _, _ = log
    with app.app_context():
        for n in range(60):
            _reminder(
                w["m_far"],
                w["police"],
                "before",
                date(2020, 1, 1) + timedelta(days=n),
                n + 100,
                {"email": {}},
            )
        db.session.commit()
    login(client, "admin")
    first, page = _rows(client, "?channel=email")
    assert len(first) == 50
    assert "第 1 / 2 页" in page
    assert "/admin/reminders?page=2&amp;channel=email" in page
    second, _ = _rows(client, "?channel=email&page=2")
    assert len(second) == 62 - 50 and not first & second


def test_retry_failed_delivery(app, client, log):
    w, ids, _ = log
    failed, sent = ids["overdue"]["email"], ids["before"]["email"]
    login(client, "admin")
    token = csrf_from(client, "/admin/reminders")
    response = client.post(
        "/admin/reminders/retry",
        data={"csrf_token": token, "delivery_id": failed, "next": "/admin/reminders?status=failed"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/reminders?status=failed")
    with app.app_context():
        d = db.session.get(ReminderDelivery, failed)
        assert (d.status, d.attempts, d.error, d.claim) == ("pending", 0, None, None)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reminder.retry"))
        assert event.before["status"] == "failed" and event.after["status"] == "pending"
        assert event.milestone_id == w["m_late"] and event.region_id == w["region_a"]

    # One send run is queued for after the commit.
    assert "reminders-send" in get_queue("high", redis_connection(app)).job_ids

    # Retrying again (a second admin's stale page) or retrying a sent delivery changes nothing.
    for delivery_id in (failed, sent):
        client.post("/admin/reminders/retry", data={"csrf_token": token, "delivery_id": delivery_id})
    with app.app_context():
        assert db.session.get(ReminderDelivery, sent).status == "sent"
        assert db.session.get(ReminderDelivery, sent).attempts == 1
        assert (
            len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reminder.retry")).all())
            == 1
        )
    # An outside `next` is not followed.
    response = client.post(
        "/admin/reminders/retry", data={"csrf_token": token, "delivery_id": failed, "next": "//evil.example/"}
    )
    assert response.headers["Location"].endswith("/admin/reminders")


def test_retry_of_a_cancelled_reminder_is_refused(app, client, log):
    _, ids, _ = log
    failed = ids["overdue"]["email"]
    with app.app_context():
        reminder = db.session.get(ReminderDelivery, failed).reminder
        reminder.status, reminder.cancelled_reason = "cancelled", "里程碑已完成"
        db.session.commit()
    login(client, "admin")
    token = csrf_from(client, "/admin/reminders")
    client.post("/admin/reminders/retry", data={"csrf_token": token, "delivery_id": failed})
    assert "提醒已失效，不再发送" in client.get("/admin/reminders").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ReminderDelivery, failed).status == "failed"
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reminder.retry")) is None


def test_outbox_list_and_message(app, client, log):
    w, _, _ = log
    with app.app_context():
        m = OutboxMessage(
            user_id=w["police"],
            to_address="police@example.cn",
            subject="【星途】3 项里程碑即将到期",
            body="您好：\n视频平台升级 将于 2021年3月25日 到期。",
        )
        db.session.add(m)
        db.session.commit()
        message_id = m.id
    login(client, "admin")
    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert "【星途】3 项里程碑即将到期" in listing and "police@example.cn" in listing
    page = client.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert "视频平台升级 将于 2021年3月25日 到期。" in page
    assert client.get(f"/admin/outbox/{message_id + 1}").status_code == 404


@pytest.mark.parametrize("username", ["office", "police", "province"])
def test_non_admin_gets_403(app, client, log, username):
    _, ids, _ = log
    login(client, username)
    for url in ("/admin/reminders", "/admin/outbox"):
        assert client.get(url).status_code == 403
    token = csrf_from(client, "/notifications")
    failed = ids["overdue"]["email"]
    response = client.post("/admin/reminders/retry", data={"csrf_token": token, "delivery_id": failed})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(ReminderDelivery, failed).status == "failed"


def test_outbox_search(app, client, log):
    with app.app_context():
        for to, subject in (("police@example.cn", "【星途】即将到期"), ("leader@example.cn", "【星途】周报")):
            db.session.add(OutboxMessage(to_address=to, subject=subject, body="正文"))
        db.session.commit()
    login(client, "admin")
    page = client.get("/admin/outbox?q=leader").get_data(as_text=True)
    assert "找到 1 封" in page and "leader@example.cn" in page and "police@example.cn" not in page
    page = client.get("/admin/outbox?q=周报").get_data(as_text=True)
    assert "找到 1 封" in page
    page = client.get("/admin/outbox?q=%25").get_data(as_text=True)
    assert "没有符合" in page
