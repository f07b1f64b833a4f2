"""A draft or returned report's evidence can be removed by its department before
resubmitting; a submitted or approved report's evidence never can."""

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Evidence, ProgressReport, User
from tests.conftest import csrf_from, login
from tests.factories import build_world
from workflows import review

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def submit(client, milestone_id, action="submit"):
    token = csrf_from(client, f"/milestones/{milestone_id}/report")
    data = {
        "csrf_token": token,
        "percent": 50,
        "claimed_status": "in_progress",
        "text": "平台升级过半",
        "action": action,
        "files": [(io.BytesIO(PDF), "验收报告.pdf"), (io.BytesIO(PNG), "现场照片.png")],
    }
    response = client.post(
        f"/milestones/{milestone_id}/report", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    report = db.session.scalars(select(ProgressReport)).one()
    return report.id


def evidence_of(report_id) -> dict[str, Evidence]:
    db.session.expire_all()
    rows = db.session.scalars(select(Evidence).where(Evidence.report_id == report_id)).all()
    return {e.original_name: e for e in rows}


def stored(app, e: Evidence) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / e.stored_name


def remove_form(client, report_id, evidence_id) -> dict:
    """The hidden fields of the 删除 button as the edit page draws it."""
    page = client.get(f"/reports/{report_id}/edit").get_data(as_text=True)
    action = f'action="/reports/{report_id}/evidence/{evidence_id}/delete"'
    assert action in page, "no 删除 button for this file"
    form = page[page.index(action) : page.index("</form>", page.index(action))]
    return dict(re.findall(r'name="(csrf_token|version)" value="([^"]*)"', form))


def remove(client, report_id, evidence_id, data):
    return client.post(f"/reports/{report_id}/evidence/{evidence_id}/delete", data=data)


def return_report(report_id, w):
    r = db.session.get(ProgressReport, report_id)
    review.return_(r, db.session.get(User, w["office"]), "照片与本任务无关")
    db.session.commit()


def test_returned_report_evidence_is_removed_with_file_and_audit(client, app, ctx, world):
    login(client, "police")
    report_id = submit(client, world["m_police"])
    return_report(report_id, world)
    files = evidence_of(report_id)
    photo, pdf = files["现场照片.png"], files["验收报告.pdf"]
    photo_path, version = stored(app, photo), db.session.get(ProgressReport, report_id).version
    assert photo_path.is_file()

    data = remove_form(client, report_id, photo.id)
    response = remove(client, report_id, photo.id, data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{report_id}/edit")
    page = client.get(f"/reports/{report_id}/edit").get_data(as_text=True)
    assert "已删除佐证材料“现场照片.png”" in page
    listed = page[page.index('data-testid="evidence-list"') :].split("</ul>")[0]
    assert "现场照片.png" not in listed and "验收报告.pdf" in listed  # no longer listed
    assert set(evidence_of(report_id)) == {"验收报告.pdf"}
    assert not photo_path.exists() and stored(app, pdf).is_file()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.delete")).one()
    assert event.summary == "删除佐证材料“现场照片.png”"
    assert event.user_id == world["police"] and event.milestone_id == world["m_police"]
    assert event.before["sha256"] == photo.sha256
    assert db.session.get(ProgressReport, report_id).version > version

    # The same (old) page cannot remove again: its version is stale.
    response = remove(client, report_id, pdf.id, data)
    assert response.status_code == 409 and "佐证材料未删除" in response.get_data(as_text=True)
    assert set(evidence_of(report_id)) == {"验收报告.pdf"}

    # The department resubmits without the removed file.
    token = csrf_from(client, f"/reports/{report_id}/edit")
    version = re.search(
        r'name="version" type="hidden" value="(\d+)"', client.get(f"/reports/{report_id}/edit").get_data(True)
    )
    response = client.post(
        f"/reports/{report_id}/edit",
        data={
            "csrf_token": token,
            "version": version.group(1),
            "percent": 50,
            "claimed_status": "in_progress",
            "text": "已去掉无关照片",
            "action": "submit",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgressReport, report_id).state == "submitted"


def test_draft_evidence_can_be_removed(client, app, ctx, world):
    login(client, "police")
    report_id = submit(client, world["m_police"], action="draft")
    pdf = evidence_of(report_id)["验收报告.pdf"]
    assert remove(client, report_id, pdf.id, remove_form(client, report_id, pdf.id)).status_code == 302
    assert set(evidence_of(report_id)) == {"现场照片.png"}


def test_submitted_or_approved_evidence_is_never_removed(client, app, ctx, world):
    login(client, "police")
    report_id = submit(client, world["m_police"])
    pdf = evidence_of(report_id)["验收报告.pdf"]
    # The edit page of a submitted report offers no button; a forged POST is refused.
    data = {
        "csrf_token": csrf_from(client, "/my"),
        "version": str(db.session.get(ProgressReport, report_id).version),
    }
    response = remove(client, report_id, pdf.id, data)
    assert response.status_code == 403 and "“待审核”，其佐证材料不能删除" in response.get_data(as_text=True)
    assert set(evidence_of(report_id)) == {"验收报告.pdf", "现场照片.png"} and stored(app, pdf).is_file()
    r = db.session.get(ProgressReport, report_id)
    review.approve(r, db.session.get(User, world["office"]))
    db.session.commit()
    data["version"] = str(db.session.get(ProgressReport, report_id).version)
    response = remove(client, report_id, pdf.id, data)
    assert response.status_code == 403 and "“已通过”，其佐证材料不能删除" in response.get_data(as_text=True)
    assert set(evidence_of(report_id)) == {"验收报告.pdf", "现场照片.png"} and stored(app, pdf).is_file()
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.delete")).all()


def test_only_the_reports_department_may_remove(client, app, ctx, world):
    login(client, "police")
    report_id = submit(client, world["m_police"])
    return_report(report_id, world)
    pdf = evidence_of(report_id)["验收报告.pdf"]
    version = str(db.session.get(ProgressReport, report_id).version)
    for user, status in [("transport", 403), ("office", 403), ("other", 404), ("leader", 403)]:
        login(client, user)
        data = {"csrf_token": csrf_from(client, "/notifications"), "version": version}
        assert remove(client, report_id, pdf.id, data).status_code == status, user
    assert set(evidence_of(report_id)) == {"验收报告.pdf", "现场照片.png"} and stored(app, pdf).is_file()


def test_without_csrf_or_through_another_report_nothing_is_removed(client, app, ctx, world):
    login(client, "police")
    report_id = submit(client, world["m_police"], action="draft")
    pdf = evidence_of(report_id)["验收报告.pdf"]
    version = str(db.session.get(ProgressReport, report_id).version)
    assert remove(client, report_id, pdf.id, {"version": version}).status_code == 400
    other_id = submit_other(client, world)
    data = {"csrf_token": csrf_from(client, "/notifications"), "version": version}
    assert remove(client, other_id, pdf.id, data).status_code == 404  # not this report's file
    assert set(evidence_of(report_id)) == {"验收报告.pdf", "现场照片.png"}


def submit_other(client, w) -> int:
    token = csrf_from(client, f"/milestones/{w['m_far']}/report")
    data = {
        "csrf_token": token,
        "percent": 10,
        "claimed_status": "in_progress",
        "text": "启动",
        "action": "draft",
    }
    assert client.post(f"/milestones/{w['m_far']}/report", data=data).status_code == 302
    return db.session.scalars(
        select(ProgressReport.id).where(ProgressReport.milestone_id == w["m_far"])
    ).one()
