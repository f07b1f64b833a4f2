"""Admin queue and reminder pages, and a department user's reminder settings, in Chromium."""

from datetime import date, datetime

from playwright.sync_api import expect
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import JobState, NotificationSetting, Reminder, ReminderDelivery
from tests.browser.pages import login
from tests.factories import PASSWORD, build_world
from workflows.queue import get_queue, redis_connection


def _login(page, base, username):
    login(page, base, username, PASSWORD)


def _data(app):
    with app.app_context():
        world = build_world()
        db.session.add(
            JobState(name="scheduler", value={"owner": "web-1:4242:ab12cd", "beat": utcnow().isoformat()})
        )
        for kind, slot, days, due, status, error in [
            ("before", date(2021, 3, 18), 7, date(2021, 3, 25), "sent", None),
            ("overdue", date(2021, 3, 7), -7, date(2021, 2, 28), "failed", "SMTP 550 收件人邮箱不存在"),
        ]:
            r = Reminder(
                milestone_id=world["m_police"] if kind == "before" else world["m_late"],
                recipient_id=world["police"],
                kind=kind,
                slot=slot,
                send_on=slot,
                due_date=due,
                days=days,
            )
            db.session.add(r)
            db.session.flush()
            db.session.add(
                ReminderDelivery(
                    reminder_id=r.id,
                    channel="email",
                    status=status,
                    attempts=1 if status == "sent" else 4,
                    sent_at=datetime(2021, 3, 18, 0, 5) if status == "sent" else None,
                    target="police@example.cn",
                    error=error,
                )
            )
        db.session.commit()
        db.session.remove()
    conn = redis_connection(app)
    q = get_queue("default", conn)
    q.enqueue_call("tests.admin.failing_jobs.explode", args=("演示",), description="重新测算计划 1 的星级")
    SimpleWorker([q], connection=conn, serializer=JSONSerializer).work(burst=True)
    return world


def test_admin_queue_and_reminder_pages(app, live_server, browser, shot):
    _data(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors = []  # CSP violations and script errors; HTTP statuses are checked by what the page shows
    page.on(
        "console",
        lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server, "admin")

    page.get_by_role("link", name="任务队列").first.click()
    expect(page.get_by_role("heading", name="任务队列")).to_be_visible()
    expect(page.get_by_test_id("scheduler")).to_contain_text("运行中")
    failed = page.get_by_test_id("failed-jobs")
    expect(failed).to_contain_text("重新测算计划 1 的星级")
    expect(failed).to_contain_text("RuntimeError: 任务失败：演示")
    shot(page, "20-admin-queues")
    failed.get_by_role("button", name="重新排队").click()
    expect(page.get_by_text("任务已重新排入 default 队列。")).to_be_visible()
    expect(page.get_by_text("没有失败的任务。")).to_be_visible()

    page.get_by_role("link", name="提醒记录").first.click()
    expect(page.get_by_role("heading", name="提醒记录")).to_be_visible()
    log = page.get_by_test_id("reminder-log")
    expect(log.locator("tbody tr")).to_have_count(2)
    shot(page, "21-admin-reminders")
    page.get_by_label("发送状态").select_option("failed")
    page.get_by_role("button", name="筛选").click()
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text("SMTP 550 收件人邮箱不存在")
    log.get_by_role("button", name="重新发送").click()
    expect(page.get_by_text("已重新排入发送队列。")).to_be_visible()
    expect(page).to_have_url(
        f"{live_server}/admin/reminders?plan=&department=&kind=&channel=&status=failed&slot_from=&slot_to="
    )
    expect(page.get_by_text("没有符合条件的提醒记录。")).to_be_visible()

    page.goto(f"{live_server}/admin/holidays?year=2021")
    page.get_by_label("批量粘贴（每行一条：日期 名称）").fill("2021-10-01 国庆节\n2021-09-27 调休上班")
    page.get_by_role("button", name="全部导入").click()
    expect(page.get_by_text("第 2 行")).to_be_visible()
    shot(page, "22-admin-holidays-error")
    assert errors == []


def test_department_user_edits_reminder_settings(app, live_server, browser, shot):
    world = _data(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    _login(page, live_server, "police")
    page.get_by_role("link", name="提醒设置").click()
    expect(page.get_by_role("heading", name="提醒设置")).to_be_visible()
    expect(page.get_by_label("邮件提醒")).to_be_checked()
    page.get_by_label("邮件提醒").uncheck()
    page.get_by_label("即时：每条提醒单独发送").check()
    shot(page, "23-settings-department")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("提醒设置已保存。")).to_be_visible()
    expect(page.get_by_label("邮件提醒")).not_to_be_checked()
    with app.app_context():
        row = db.session.scalar(
            select(NotificationSetting).where(NotificationSetting.user_id == world["police"])
        )
        assert (row.email, row.digest) == (False, False)

    page.get_by_role("link", name="甲市行动计划").click()
    expect(page.get_by_text("仅统筹部门可以修改提醒规则。")).to_be_visible()
    shot(page, "24-policy-read-only")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _login(phone, live_server, "police")
    phone.goto(f"{live_server}/settings/notifications")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"settings page is {width}px wide on a 390px phone"
    shot(phone, "25-settings-phone")


def test_plan_office_edits_policy(app, live_server, browser, shot):
    _data(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    _login(page, live_server, "office")
    page.goto(f"{live_server}/plans/plan-a/reminder-policy")
    page.get_by_label("到期前提醒（提前天数，逗号分隔；0 表示到期当天）").fill("15，7，0")
    page.get_by_role("button", name="保存提醒规则").click()
    expect(
        page.get_by_text("提醒规则已保存：三色状态即时按新规则计算，提醒在下次扫描起生效。")
    ).to_be_visible()
    expect(page.get_by_label("到期前提醒（提前天数，逗号分隔；0 表示到期当天）")).to_have_value("15,7,0")
    page.get_by_label("智慧警务").select_option(label="leader")
    page.get_by_role("button", name="保存负责领导").click()
    expect(page.get_by_text("负责领导已保存。")).to_be_visible()
    shot(page, "26-policy-plan-office")
