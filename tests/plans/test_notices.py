"""督办 routes: issue, 签收, 反馈 with evidence, 复核; CSRF, scope (404), role (403),
stale double clicks (409), and what each side sees on its pages."""

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Department, Evidence, Milestone, Notice, Notification, User
from tests.conftest import csrf_from, login
from tests.factories import build_world
from workflows import notice_review

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def make_notice(app, world, milestone="m_police", state=None, issuer="leader", due=date(2021, 3, 20)) -> int:
    with app.app_context():
        m = db.session.get(Milestone, world[milestone])
        n = notice_review.issue(
            m,
            db.session.get(Department, world["police_dept"]),
            db.session.get(User, world[issuer]),
            "请说明",
            due,
        )
        if state in ("answered", "returned", "closed"):
            notice_review.answer(n, db.session.get(User, world["police"]), "已处理")
        if state == "returned":
            notice_review.send_back(n, db.session.get(User, world[issuer]), "不够具体")
        if state == "closed":
            notice_review.accept(n, db.session.get(User, world[issuer]))
        if state == "acknowledged":
            notice_review.acknowledge(n, db.session.get(User, world["police"]))
        db.session.commit()
        return n.id


def get(app, notice_id) -> Notice:
    with app.app_context():
        n = db.session.get(Notice, notice_id)
        db.session.expunge(n)
        return n


def post(client, url, token_page, **data):
    return client.post(url, data={"csrf_token": csrf_from(client, token_page), **data})


def count_actions(app, action) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def test_issue_from_the_milestone_page(client, app, world):
    login(client, "leader")
    url = f"/milestones/{world['m_police']}/notices"
    data = {"department_id": world["transport_dept"], "text": "请说明配合进度", "reply_due": "2021-03-19"}
    assert client.post(url, data=data).status_code == 400  # no CSRF token
    response = post(client, url, f"/milestones/{world['m_police']}", **data)
    assert response.status_code == 302
    with app.app_context():
        notice = db.session.scalars(select(Notice)).one()
        assert notice.state == "issued" and notice.department_id == world["transport_dept"]
        note = db.session.scalars(
            select(Notification).where(Notification.user_id == world["transport"])
        ).one()
        assert note.link == f"/milestones/{world['m_police']}#notice-{notice.id}"
    page = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert "已交办" in page and 'data-colour="yellow"' in page  # reply due in 4 days


def test_acknowledge_then_a_stale_double_click_is_409(client, app, world):
    nid = make_notice(app, world)
    login(client, "police")
    page = client.get("/my").get_data(as_text=True)
    assert "待答复的督办单（1）" in page and ">签收</button>" in page and 'data-colour="yellow"' in page
    token = csrf_from(client, "/my")
    assert client.post(f"/notices/{nid}/acknowledge", data={"version": 1}).status_code == 400  # no CSRF
    response = client.post(f"/notices/{nid}/acknowledge", data={"csrf_token": token, "version": 1})
    assert response.status_code == 302 and get(app, nid).state == "acknowledged"
    again = client.post(f"/notices/{nid}/acknowledge", data={"csrf_token": token, "version": 1})
    assert again.status_code == 409 and "已被他人处理" in again.get_data(as_text=True)
    # Even with the fresh version the step is refused in this state, never done twice.
    fresh = client.post(f"/notices/{nid}/acknowledge", data={"csrf_token": token, "version": 2})
    assert fresh.status_code == 409 and "不能签收" in fresh.get_data(as_text=True)
    assert count_actions(app, "notice.acknowledge") == 1
    with app.app_context():
        leader_notes = db.session.scalars(
            select(Notification.text).where(Notification.user_id == world["leader"])
        )
        assert list(leader_notes) == ["甲市公安局已签收督办单：视频平台升级"]


def test_answer_with_evidence_reaches_the_issuer(client, app, world):
    nid = make_notice(app, world, state="acknowledged")
    login(client, "police")
    url = f"/notices/{nid}/answer"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    token = csrf_from(client, url)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "version": version,
            "reply_text": "已完成设备安装",
            "files": [(io.BytesIO(PDF), "安装记录.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        notice = db.session.get(Notice, nid)
        assert notice.state == "answered" and [e.original_name for e in notice.evidence] == ["安装记录.pdf"]
        evidence_id = notice.evidence[0].id
        assert notice.evidence[0].milestone_id == world["m_police"]
        texts = list(
            db.session.scalars(
                select(Notification.text)
                .where(Notification.user_id == world["leader"])
                .order_by(Notification.id)
            )
        )
        assert texts[-1] == "甲市公安局已反馈督办单，请复核：视频平台升级"
    # A second submit from the same page: 409, one answer.
    again = client.post(
        url,
        data={"csrf_token": token, "version": version, "reply_text": "再次"},
        content_type="multipart/form-data",
    )
    assert again.status_code == 409
    with app.app_context():
        assert len(db.session.get(Notice, nid).rounds) == 1
    login(client, "leader")
    page = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert (
        "已反馈，待复核" in page and "第 1 次反馈" in page and "安装记录.pdf" in page and "通过并办结" in page
    )
    assert client.get(f"/evidence/{evidence_id}").status_code == 200
    login(client, "other")  # another region
    assert client.get(f"/evidence/{evidence_id}").status_code == 404


def test_bad_upload_keeps_the_notice_unanswered(client, app, world):
    nid = make_notice(app, world)
    login(client, "police")
    url = f"/notices/{nid}/answer"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_from(client, url),
            "version": 1,
            "reply_text": "答复",
            "files": [(io.BytesIO(b"MZ\x90\x00\x03\x00"), "x.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "不是允许的类型" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.get(Notice, nid).state == "issued"
            and db.session.scalar(select(func.count(Evidence.id))) == 0
        )


def test_review_accept_return_and_stale(client, app, world):
    nid = make_notice(app, world, state="answered")
    login(client, "leader")
    page_url = f"/milestones/{world['m_police']}"
    # Sending back needs a reason.
    response = post(client, f"/notices/{nid}/return", page_url, version=3, note=" ")
    assert response.status_code == 302 and get(app, nid).state == "answered"
    assert "退回时必须填写退回原因" in client.get(page_url).get_data(as_text=True)
    response = post(client, f"/notices/{nid}/return", page_url, version=3, note="请附照片")
    assert response.status_code == 302 and get(app, nid).state == "returned"
    # A stale accept from the old page: 409, nothing changes.
    stale = post(client, f"/notices/{nid}/accept", page_url, version=3)
    assert stale.status_code == 409 and get(app, nid).state == "returned"
    with app.app_context():
        texts = list(
            db.session.scalars(
                select(Notification.text)
                .where(Notification.user_id == world["police"])
                .order_by(Notification.id)
            )
        )
        assert texts[-1] == "督办单反馈被退回，需重新办理：视频平台升级。退回原因：请附照片"
    login(client, "police")
    page = client.get("/my").get_data(as_text=True)
    assert "已退回，需重新办理" in page and "退回原因：请附照片" in page and "重新反馈" in page


@pytest.mark.parametrize(
    "who, method, path, expected",
    [
        ("other", "post", "/notices/{id}/acknowledge", 404),  # another region
        ("other", "get", "/notices/{id}/answer", 404),
        ("other_office", "post", "/notices/{id}/accept", 404),
        ("transport", "post", "/notices/{id}/acknowledge", 403),  # sees the milestone, not its notice
        ("transport", "get", "/notices/{id}/answer", 403),
        ("leader", "post", "/notices/{id}/acknowledge", 403),  # no answer_notice
        ("province", "post", "/notices/{id}/accept", 403),
        ("police", "post", "/notices/{id}/accept", 403),  # a department cannot close its own notice
        ("police", "post", "/notices/{id}/return", 403),
        ("office", "post", "/notices/{id}/accept", 403),  # not the issuer, and the issuer is active
        ("police", "get", "/notices", 403),
        ("province", "get", "/notices", 403),
    ],
)
def test_scope_and_roles(client, app, world, who, method, path, expected):
    nid = make_notice(app, world, state="answered" if "accept" in path or "return" in path else None)
    login(client, who)
    url = path.format(id=nid)
    if method == "get":
        assert client.get(url).status_code == expected
    else:
        token = csrf_from(client, "/notifications")
        assert client.post(url, data={"csrf_token": token, "version": 3, "note": "x"}).status_code == expected
    state = get(app, nid).state
    assert state in ("issued", "answered")  # nothing moved


def test_notices_page_colour_first_and_filters(client, app, world):
    late = make_notice(app, world, due=date(2021, 3, 15))  # due today → 黄
    answered = make_notice(app, world, state="answered", due=date(2021, 4, 30))
    closed = make_notice(app, world, state="closed", issuer="office")
    with app.app_context():  # the first one's reply date passes unanswered → 红
        db.session.get(Notice, late).reply_due = date(2021, 3, 12)
        db.session.commit()
    login(client, "leader")
    page = client.get("/notices").get_data(as_text=True)
    counts = page.split('data-testid="notice-counts">')[1].split("</p>")[0]
    assert re.sub(r"<[^>]+>", "", counts) == "共 3 份：红 1 · 黄 0 · 蓝 1 · 完成 1 · 待我复核 1"
    ids = [int(i) for i in re.findall(r'<li data-testid="notice-(\d+)"', page)]
    assert ids == [late, answered, closed]
    # Every count is a link to a list of that many notices.
    links = re.findall(r'<a href="([^"]+)" data-count="(\d+)"', counts)
    assert len(links) == 6
    for href, n in links:
        listed = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert len(re.findall(r'<li data-testid="notice-(\d+)"', listed)) == int(n), href
    page = client.get("/notices?colour=red").get_data(as_text=True)
    assert re.findall(r'<li data-testid="notice-(\d+)"', page) == [str(late)]
    assert client.get("/notices?colour=purple").status_code == 404
    assert "超过答复期限 3 天未答复" in page
    page = client.get("/notices?state=answered").get_data(as_text=True)
    assert re.findall(r'<li data-testid="notice-(\d+)"', page) == [str(answered)]
    page = client.get("/notices?mine=1").get_data(as_text=True)
    assert str(closed) not in re.findall(r'<li data-testid="notice-(\d+)"', page)
    assert client.get("/notices?state=nonsense").status_code == 404
    login(client, "other_office")
    assert "没有符合条件的督办单" in client.get("/notices").get_data(as_text=True)


def test_an_open_notice_turns_its_milestone_yellow(client, app, world):
    from app.status import plan_status

    nid = make_notice(app, world, milestone="m_far", due=date(2021, 12, 1))
    with app.app_context():
        from app.models import Plan

        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        row = plan_status(plan).rows[world["m_far"]]
        assert row.colour == "yellow" and "督办未答复" in row.status.reasons
        n = db.session.get(Notice, nid)
        notice_review.answer(n, db.session.get(User, world["police"]), "已安排")
        db.session.commit()
        assert plan_status(plan).rows[world["m_far"]].colour == "blue"
