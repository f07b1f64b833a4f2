"""End-to-end journeys through the test client, with CSRF switched on."""

import io
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Dependency, Evidence, Extension, Milestone, Notice, ProgressReport
from tests.conftest import csrf_from, hidden, login
from tests.factories import build_world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _world(app):
    with app.app_context():
        return build_world()


def _submit_report(client, milestone_id, percent=100, status="done", files=None, action="submit"):
    token = csrf_from(client, f"/milestones/{milestone_id}/report")
    data = {
        "csrf_token": token,
        "percent": percent,
        "claimed_status": status,
        "text": "已完成平台升级并通过验收",
        "action": action,
    }
    if files:
        data["files"] = files
    return client.post(f"/milestones/{milestone_id}/report", data=data, content_type="multipart/form-data")


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_login_page_is_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page


def test_wrong_password_is_refused(client, app):
    _world(app)
    token = csrf_from(client, "/login")
    response = client.post("/login", data={"username": "police", "password": "nope", "csrf_token": token})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_session_cookie_flags(client, app):
    _world(app)
    response = login(client, "police")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_post_without_csrf_token_changes_nothing(client, app):
    w = _world(app)
    login(client, "police")
    response = client.post(
        f"/milestones/{w['m_police']}/report",
        data={"percent": 50, "claimed_status": "in_progress", "text": "x"},
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert _count(app, ProgressReport) == 0


def test_my_work_lists_lead_and_co_milestones_by_due_date(client, app):
    _world(app)
    login(client, "transport")
    page = client.get("/my").get_data(as_text=True)
    # Transport leads 公交大数据系统 (due 6-30) and is co on 视频平台升级 (due 3-25, in 10 days:
    # outside the plan's 7-day 即将到期 window, but 黄 for being behind 序时进度).
    assert page.index("视频平台升级") < page.index("公交大数据系统")
    assert "即将到期" not in page and "配合" in page
    assert "进度 0%，落后序时进度 60%" in page
    login(client, "police")
    page = client.get("/my").get_data(as_text=True)
    assert "逾期 15 天" in page  # 警务云建设 was due 2021-02-28; the clock says 2021-03-15


def test_department_reports_and_plan_office_approves(client, app, tmp_path):
    w = _world(app)
    login(client, "police")
    response = _submit_report(client, w["m_police"], files=[(io.BytesIO(PDF), "验收报告.pdf")])
    assert response.status_code == 302
    with app.app_context():
        report = db.session.scalars(select(ProgressReport)).one()
        assert report.state == "submitted" and report.kind == "lead"
        evidence = report.evidence[0]
        assert evidence.content_type == "application/pdf" and evidence.original_name == "验收报告.pdf"
        stored = app.config["UPLOAD_FOLDER"] + "/" + evidence.stored_name
        assert evidence.stored_name != "验收报告.pdf" and open(stored, "rb").read() == PDF
        report_id = report.id
    download = client.get(f"/evidence/{evidence.id}")
    assert download.data == PDF and "attachment" in download.headers["Content-Disposition"]

    login(client, "office")
    queue = client.get("/review").get_data(as_text=True)
    assert "视频平台升级" in queue
    page = client.get(f"/review/reports/{report_id}").get_data(as_text=True)
    assert "验收报告.pdf" in page
    token = csrf_from(client, f"/review/reports/{report_id}")
    url = f"/review/reports/{report_id}"
    versions = {
        "version": hidden(client, url, "version"),
        "milestone_version": hidden(client, url, "milestone_version"),
    }
    response = client.post(f"/review/reports/{report_id}/approve", data={"csrf_token": token, **versions})
    assert response.status_code == 302
    with app.app_context():
        m = db.session.get(Milestone, w["m_police"])
        assert (m.percent, m.status, m.actual_finish) == (100, "done", date(2021, 3, 15))
    page = client.get(f"/milestones/{w['m_police']}").get_data(as_text=True)
    assert "进度更新为 100%" in page and "已完成" in page


def test_returned_report_shows_reason_in_app(client, app):
    w = _world(app)
    login(client, "police")
    _submit_report(client, w["m_police"], percent=40, status="in_progress")
    with app.app_context():
        report_id = db.session.scalars(select(ProgressReport.id)).one()
    login(client, "office")
    token = csrf_from(client, f"/review/reports/{report_id}")
    client.post(
        f"/review/reports/{report_id}/return",
        data={
            "csrf_token": token,
            "version": hidden(client, f"/review/reports/{report_id}", "version"),
            "reason": "缺少现场照片",
        },
    )
    login(client, "police")
    page = client.get("/my").get_data(as_text=True)
    assert "退回原因：缺少现场照片" in page
    assert 'data-testid="unread"' in page
    # Resubmitting after a fix goes back into the queue.
    token = csrf_from(client, f"/reports/{report_id}/edit")
    response = client.post(
        f"/reports/{report_id}/edit",
        data={
            "csrf_token": token,
            "version": hidden(client, f"/reports/{report_id}/edit", "version"),
            "percent": 45,
            "claimed_status": "in_progress",
            "text": "补充现场照片",
            "action": "submit",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ProgressReport, report_id).state == "submitted"


def test_co_department_adds_its_part(client, app):
    w = _world(app)
    login(client, "transport")
    _submit_report(client, w["m_police"], percent=50, status="in_progress")
    with app.app_context():
        report = db.session.scalars(select(ProgressReport)).one()
        assert report.kind == "part" and report.department_id == w["transport_dept"]


def test_upload_checked_by_content_not_extension(client, app):
    w = _world(app)
    login(client, "police")
    response = _submit_report(
        client, w["m_police"], files=[(io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00"), "报告.pdf")]
    )
    assert response.status_code == 200
    assert "内容不是允许的类型" in response.get_data(as_text=True)
    assert _count(app, ProgressReport) == 0 and _count(app, Evidence) == 0


def test_upload_too_large_is_refused(client, app):
    w = _world(app)
    login(client, "police")
    big = PDF + b"0" * (1024 * 1024)
    response = _submit_report(client, w["m_police"], files=[(io.BytesIO(big), "big.pdf")])
    assert response.status_code == 413
    assert _count(app, ProgressReport) == 0


def test_extension_keeps_baseline_and_reason(client, app):
    w = _world(app)
    login(client, "office")
    token = csrf_from(client, f"/milestones/{w['m_late']}/extend")
    response = client.post(
        f"/milestones/{w['m_late']}/extend",
        data={"csrf_token": token, "version": 1, "new_due": "2021-05-31", "reason": "设备到货延迟"},
    )
    assert response.status_code == 302
    with app.app_context():
        m = db.session.get(Milestone, w["m_late"])
        assert m.due_date == date(2021, 5, 31) and m.baseline_due_date == date(2021, 2, 28)
        ext = db.session.scalars(select(Extension)).one()
        assert ext.reason == "设备到货延迟" and ext.old_due == date(2021, 2, 28)
    page = client.get(f"/milestones/{w['m_late']}").get_data(as_text=True)
    assert "2021年2月28日" in page and "设备到货延迟" in page


def test_two_tabs_saving_the_same_milestone(client, app):
    w = _world(app)
    login(client, "office")
    url = f"/milestones/{w['m_police']}/edit"
    token = csrf_from(client, url)
    first = client.post(url, data={"csrf_token": token, "version": 1, "title": "第一个标签页", "text": "a"})
    assert first.status_code == 302
    second = client.post(url, data={"csrf_token": token, "version": 1, "title": "第二个标签页", "text": "b"})
    assert second.status_code == 409
    assert "已在其他窗口或被他人修改" in second.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Milestone, w["m_police"]).title == "第一个标签页"


def test_stale_approval_is_refused(client, app):
    w = _world(app)
    login(client, "police")
    _submit_report(client, w["m_police"], percent=60, status="in_progress")
    with app.app_context():
        report_id = db.session.scalars(select(ProgressReport.id)).one()
    login(client, "office")
    url = f"/review/reports/{report_id}"
    token = csrf_from(client, url)
    stale = {
        "version": hidden(client, url, "version"),
        "milestone_version": hidden(client, url, "milestone_version"),
    }
    # Another tab edits the milestone between page load and approval.
    client.post(
        f"/milestones/{w['m_police']}/edit",
        data={"csrf_token": token, "version": 1, "title": "改名", "text": ""},
    )
    response = client.post(f"/review/reports/{report_id}/approve", data={"csrf_token": token, **stale})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(ProgressReport, report_id).state == "submitted"
        assert db.session.get(Milestone, w["m_police"]).percent == 0


def test_leading_group_notice_answered_by_department(client, app):
    w = _world(app)
    login(client, "leader")
    page = client.get("/plans/plan-a").get_data(as_text=True)
    assert "逾期 1" in page and "智慧警务" in page
    assert "共 4 · 已完成 0 · 进行中 1 · 未开始 3" in page
    token = csrf_from(client, f"/milestones/{w['m_late']}")
    response = client.post(
        f"/milestones/{w['m_late']}/notices",
        data={
            "csrf_token": token,
            "department_id": w["police_dept"],
            "text": "请说明延误原因",
            "reply_due": "2021-03-20",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        notice = db.session.scalars(select(Notice)).one()
    login(client, "police")
    page = client.get("/my").get_data(as_text=True)
    assert "待答复的督办单" in page and "请说明延误原因" in page
    token = csrf_from(client, f"/notices/{notice.id}/answer")
    version = hidden(client, f"/notices/{notice.id}/answer", "version")
    client.post(
        f"/notices/{notice.id}/answer",
        data={"csrf_token": token, "reply_text": "设备延迟，4月完成", "version": version},
    )
    with app.app_context():
        notice = db.session.get(Notice, notice.id)
        assert notice.reply_text == "设备延迟，4月完成" and notice.replied_at is not None
    assert "待答复的督办单" not in client.get("/my").get_data(as_text=True)


def test_every_change_writes_an_audit_row(client, app):
    w = _world(app)
    login(client, "police")
    _submit_report(client, w["m_police"], percent=60, status="in_progress")
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.login", "report.create", "report.submit"} <= actions


def test_admin_creates_a_user(client, app):
    w = _world(app)
    login(client, "admin")
    token = csrf_from(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "newclerk",
            "display_name": "新联络员",
            "role": "department",
            "region_id": w["region_a"],
            "department_id": w["other_dept"],
            "password": "long-password",
            "active": "y",
        },
    )
    assert "不属于所选区域" in response.get_data(as_text=True)
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "newclerk",
            "display_name": "新联络员",
            "role": "department",
            "region_id": w["region_a"],
            "department_id": w["police_dept"],
            "password": "long-password",
            "active": "y",
        },
    )
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": token})
    login(client, "newclerk", "long-password")


def test_error_pages_are_chinese(client, app):
    _world(app)
    login(client, "police")
    page = client.get("/milestones/999999")
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)


def test_dependency_that_closes_a_cycle_is_refused(client, app):
    w = _world(app)  # 警务云建设 → 视频平台升级 → 警航一体化
    login(client, "office")
    url = f"/milestones/{w['m_late']}/dependencies"
    token = csrf_from(client, f"/milestones/{w['m_late']}")
    response = client.post(
        url, data={"csrf_token": token, "predecessor_id": w["m_far"], "lag_days": 0}, follow_redirects=True
    )
    assert "添加该依赖会形成循环：警航一体化 → 警务云建设 → 视频平台升级 → 警航一体化" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dependency)) == 2
    # An acyclic one is written, with its audit row, and shows on both pages.
    response = client.post(
        f"/milestones/{w['m_far']}/dependencies",
        data={"csrf_token": token, "predecessor_id": w["m_transport"], "lag_days": 7, "reason": "需公交数据"},
        follow_redirects=True,
    )
    assert "已添加前置里程碑" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dependency)) == 3
        assert "dependency.add" in set(db.session.scalars(select(AuditEvent.action)))
    assert "警航一体化" in client.get(f"/milestones/{w['m_transport']}").get_data(as_text=True)


def test_departments_cannot_edit_dependencies(client, app):
    w = _world(app)
    login(client, "police")
    token = csrf_from(client, "/my")
    response = client.post(
        f"/milestones/{w['m_police']}/dependencies",
        data={"csrf_token": token, "predecessor_id": w["m_far"], "lag_days": 0},
    )
    assert response.status_code == 403
