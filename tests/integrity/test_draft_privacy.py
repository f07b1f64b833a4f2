"""A draft report, and everything about it, is seen by its own department only:
the milestone page's reports and history, the report's own pages, its files, the
review queue and counts, the plan status the dashboards and exports read."""

import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Evidence, Plan, ProgressReport
from app.status import plan_status
from tests.conftest import csrf_from, login
from tests.factories import build_world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FILE = "机密草稿附件.pdf"
TEXT = "草稿：内部讨论尚未定稿的进展"


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def save_draft(client, milestone_id) -> int:
    data = {
        "csrf_token": csrf_from(client, f"/milestones/{milestone_id}/report"),
        "percent": 40,
        "claimed_status": "in_progress",
        "text": TEXT,
        "action": "draft",
        "files": [(io.BytesIO(PDF), FILE)],
    }
    response = client.post(
        f"/milestones/{milestone_id}/report", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return db.session.scalars(select(ProgressReport)).one().id


def history(client, milestone_id) -> str:
    page = client.get(f"/milestones/{milestone_id}").get_data(as_text=True)
    match = re.search(r'data-testid="history">(.*?)</table>', page, re.S)
    assert match, "no history table"
    return match.group(1)


@pytest.mark.parametrize("viewer", ["office", "transport", "leader", "province"])
def test_other_departments_see_nothing_of_a_draft(app, client, ctx, world, viewer):
    login(client, "police")
    report_id = save_draft(client, world["m_police"])
    evidence_id = db.session.scalars(select(Evidence.id)).one()
    own = history(client, world["m_police"])
    assert FILE in own and "保存汇报草稿" in own and "起草" in own  # the department sees its own

    login(client, viewer)
    page = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    for secret in (FILE, TEXT, "保存汇报草稿", "起草牵头汇报"):
        assert secret not in page, f"{viewer} sees “{secret}” of another department's draft"
    for url in (f"/review/reports/{report_id}", f"/reports/{report_id}/edit", f"/evidence/{evidence_id}"):
        assert client.get(url).status_code == 404, url
    queue = client.get("/review")
    assert TEXT not in queue.get_data(as_text=True)


def test_history_shows_the_rows_once_submitted(app, client, ctx, world):
    login(client, "police")
    report_id = save_draft(client, world["m_police"])
    token = csrf_from(client, f"/reports/{report_id}/edit")
    version = db.session.get(ProgressReport, report_id).version
    data = {
        "csrf_token": token,
        "percent": 40,
        "claimed_status": "in_progress",
        "text": "已定稿",
        "action": "submit",
        "version": version,
    }
    response = client.post(f"/reports/{report_id}/edit", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    login(client, "office")
    rows = history(client, world["m_police"])
    assert FILE in rows and "保存汇报草稿" in rows and "提交" in rows
    assert client.get(f"/review/reports/{report_id}").status_code == 200


def test_a_file_removed_from_a_draft_stays_private(app, client, ctx, world):
    login(client, "police")
    report_id = save_draft(client, world["m_police"])
    evidence = db.session.scalars(select(Evidence)).one()
    page = client.get(f"/reports/{report_id}/edit").get_data(as_text=True)
    action = f'action="/reports/{report_id}/evidence/{evidence.id}/delete"'
    form = page[page.index(action) : page.index("</form>", page.index(action))]
    fields = dict(re.findall(r'name="(csrf_token|version)"[^>]*value="([^"]*)"', form))
    assert client.post(f"/reports/{report_id}/evidence/{evidence.id}/delete", data=fields).status_code == 302
    assert "删除佐证材料" in history(client, world["m_police"])
    login(client, "office")
    assert FILE not in history(client, world["m_police"])


def test_the_report_loader_hides_drafts_of_other_departments(app, client, ctx, world):
    """The plan office may review any report in its region, but not read a draft."""
    login(client, "police")
    report_id = save_draft(client, world["m_police"])
    login(client, "office")
    page = client.get(f"/review/reports/{report_id}")
    assert page.status_code == 404 and TEXT not in page.get_data(as_text=True)
    login(client, "transport")  # a co-department of the same milestone
    assert client.get(f"/reports/{report_id}/edit").status_code == 404


def test_plan_status_and_pending_counts_ignore_drafts(app, client, ctx, world):
    login(client, "police")
    save_draft(client, world["m_police"])
    db.session.expire_all()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    assert plan_status(plan).rows[world["m_police"]].latest_report is None
    login(client, "office")
    assert TEXT not in client.get("/review").get_data(as_text=True)
    dashboard = client.get("/").get_data(as_text=True)
    assert TEXT not in dashboard
