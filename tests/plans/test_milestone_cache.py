"""The milestone page's body is kept per viewer (app/section_cache.py) under the plan's
content version, the milestone's newest history row and the date: every change reaches it
at once, and its forms carry each request's own CSRF token, never another viewer's."""

import re

from app import audit
from app.extensions import db
from app.models import Milestone, User
from app.section_cache import CSRF_MARK
from tests.conftest import CSRF_RE, login
from tests.factories import build_world


def page(client, world) -> str:
    response = client.get(f"/milestones/{world['m_police']}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def tokens(html: str) -> set[str]:
    return set(CSRF_RE.findall(html)) | set(
        re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    )


def test_each_viewer_gets_their_own_token_and_it_works(app, client):
    with app.app_context():
        w = build_world()
    login(client, "office")
    first = page(client, w)
    other = app.test_client()
    login(other, "office")  # the same user in another browser: the same kept body
    second = page(other, w)
    assert CSRF_MARK not in first and CSRF_MARK not in second
    mine, theirs = tokens(first), tokens(second)
    assert len(mine) == 1 and len(theirs) == 1 and mine != theirs
    assert len(CSRF_RE.findall(second)) >= 2  # the 督办 form and the dependency forms each carry it

    # the token served from the kept body is accepted: the notice is issued and shows at once
    data = {
        "csrf_token": theirs.pop(),
        "department_id": w["transport_dept"],
        "text": "请说明配合进度",
        "reply_due": "2021-03-19",
    }
    assert other.post(f"/milestones/{w['m_police']}/notices", data=data).status_code == 302
    assert "请说明配合进度" in page(client, w) and "请说明配合进度" in page(other, w)


def test_changes_reach_the_kept_body(app, client):
    with app.app_context():
        w = build_world()
    login(client, "police")
    first = page(client, w)
    assert page(client, w) == first.replace(tokens(first).pop(), tokens(first).pop())

    with app.app_context():  # the milestone's text and a neighbour's title
        db.session.get(Milestone, w["m_police"]).text = "新的建设内容说明"
        db.session.get(Milestone, w["m_late"]).title = "警务云建设（二期）"
        db.session.commit()
    html = page(client, w)
    assert "新的建设内容说明" in html and "警务云建设（二期）" in html

    with app.app_context():  # a history row alone (no row of the plan changed)
        m = db.session.get(Milestone, w["m_police"])
        audit.record(db.session.get(User, w["office"]), "milestone.note", m, "统筹部门已电话核实进度")
        db.session.commit()
    assert "统筹部门已电话核实进度" in page(client, w)

    with app.app_context():  # the one who wrote it renamed: the history shows the new name
        db.session.get(User, w["office"]).display_name = "统筹办王主任"
        db.session.commit()
    assert "统筹办王主任" in page(client, w)


def test_another_departments_draft_stays_hidden_from_a_viewer_served_from_the_cache(app, client):
    from tests.conftest import csrf_from

    with app.app_context():
        w = build_world()
    login(client, "transport")  # co-department of m_police
    before = page(client, w)
    police = app.test_client()
    login(police, "police")
    token = csrf_from(police, f"/milestones/{w['m_police']}/report")
    data = {
        "csrf_token": token,
        "percent": "30",
        "claimed_status": "in_progress",
        "text": "草稿：尚未提交",
        "action": "draft",
    }
    assert police.post(f"/milestones/{w['m_police']}/report", data=data).status_code == 302
    assert "草稿：尚未提交" in page(police, w)
    assert "草稿：尚未提交" not in page(client, w)
    assert "草稿：尚未提交" not in before
