"""Writes through the API go through the pages' code paths: a progress report (with
evidence) into the review state machine and the audit trail; an indicator value into its
review; a 督办 answer into the notice loop. A stale If-Match → 412 and nothing written."""

import io

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Evidence, IndicatorValue, Milestone, Notice, ProgressReport
from tests.api.conftest import bearer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _actions(app, object_type, object_id):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        ).all()


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_report_with_evidence_is_submitted_audited_and_reviewable(app, client, world, token):
    headers = bearer(token("police"))
    etag = client.get(f"/api/v1/milestones/{world['m_police']}", headers=headers).headers["ETag"]
    response = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers={**headers, "If-Match": etag},
        data={
            "text": "视频平台已完成联调",
            "percent": "60",
            "claimed_status": "in_progress",
            "files": (io.BytesIO(PDF), "联调报告.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["state"] == "submitted" and body["percent"] == 60 and body["kind"] == "lead"
    assert [e["original_name"] for e in body["evidence"]] == ["联调报告.pdf"]
    assert response.headers["ETag"] == f'"progressreport-{body["id"]}-v{body["version"]}"'
    assert _actions(app, "ProgressReport", body["id"]) == ["report.create", "report.submit"]
    # The plan office sees it in the same review: approving moves the milestone.
    with app.app_context():
        report = db.session.get(ProgressReport, body["id"])
        assert report.author.username == "police" and report.state == "submitted"
    # A second report while one is pending: 409, pointing at it.
    again = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={"text": "再报", "percent": "70", "claimed_status": "in_progress"},
        content_type="multipart/form-data",
    )
    assert again.status_code == 409 and str(body["id"]) in again.json["error"]["message"]


def test_report_validation_is_the_pages(app, client, world, token):
    headers = bearer(token("police"))
    before = _count(app, ProgressReport)
    bad = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={"text": "完成", "percent": "90", "claimed_status": "done"},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "100" in bad.json["error"]["message"]
    fake = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={
            "text": "附件",
            "percent": "50",
            "claimed_status": "in_progress",
            "files": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "x.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    missing = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and "text" in missing.json["error"]["details"]["form"]
    blank = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={"text": "  \n ", "percent": "50", "claimed_status": "in_progress"},
    )
    assert blank.status_code == 422 and "不能为空白" in blank.json["error"]["message"]
    nul = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={"text": "进展\x00", "percent": "50", "claimed_status": "in_progress"},
    )
    assert nul.status_code == 422 and "控制字符" in nul.json["error"]["message"]
    assert _count(app, ProgressReport) == before and _count(app, Evidence) == 4


def test_stale_if_match_on_a_milestone_writes_nothing(app, client, world, token):
    headers = bearer(token("police"))
    before = (_count(app, ProgressReport), _count(app, AuditEvent))
    response = client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers={**headers, "If-Match": f'"milestone-{world["m_police"]}-v0"'},
        data={"text": "进展", "percent": "50", "claimed_status": "in_progress"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 412
    assert response.json["error"]["code"] == "precondition_failed"
    assert (_count(app, ProgressReport), _count(app, AuditEvent)) == before


def test_returned_report_is_resubmitted_with_if_match(app, client, world, token):
    with app.app_context():
        report = db.session.get(ProgressReport, world["report_a"])
        report.state = "returned"
        report.return_reason = "请补充材料"
        db.session.commit()
    headers = bearer(token("police"))
    etag = client.get(f"/api/v1/reports/{world['report_a']}", headers=headers).headers["ETag"]
    stale = client.put(
        f"/api/v1/reports/{world['report_a']}",
        headers={**headers, "If-Match": '"progressreport-1-v999"'},
        data={"text": "已补充", "percent": "50", "claimed_status": "in_progress"},
        content_type="multipart/form-data",
    )
    assert stale.status_code == 412
    with app.app_context():
        assert db.session.get(ProgressReport, world["report_a"]).state == "returned"
    ok = client.put(
        f"/api/v1/reports/{world['report_a']}",
        headers={**headers, "If-Match": etag},
        data={"text": "已补充", "percent": "50", "claimed_status": "in_progress"},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.json["state"] == "submitted" and ok.json["return_reason"] is None
    assert ok.headers["ETag"] != etag
    assert _actions(app, "ProgressReport", world["report_a"])[-1] == "report.submit"
    # Submitted now: not editable.
    again = client.put(
        f"/api/v1/reports/{world['report_a']}",
        headers=headers,
        data={"text": "再改", "percent": "50", "claimed_status": "in_progress"},
        content_type="multipart/form-data",
    )
    assert again.status_code == 409


def test_reporting_needs_the_role_and_the_milestone(app, client, world, token):
    data = {"text": "进展", "percent": "50", "claimed_status": "in_progress"}
    leader = bearer(token("leader"))
    assert (
        client.post(f"/api/v1/milestones/{world['m_police']}/reports", headers=leader, data=data).status_code
        == 403
    )
    transport = bearer(token("transport"))  # sees m_far? no: 404 before anything
    assert (
        client.post(f"/api/v1/milestones/{world['m_far']}/reports", headers=transport, data=data).status_code
        == 404
    )
    other = bearer(token("other"))
    assert (
        client.post(f"/api/v1/milestones/{world['m_police']}/reports", headers=other, data=data).status_code
        == 404
    )


def test_indicator_value_goes_into_review_and_the_audit(app, client, world, token):
    police = bearer(token("police"))
    url = f"/api/v1/indicators/{world['indicator_a']}/values"
    response = client.post(
        url, headers=police, json={"as_of": "2021-03-10", "value": 85.5, "source": "公安局统计"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["state"] == "submitted" and response.json["value"] == 85.5
    assert _actions(app, "IndicatorValue", response.json["id"]) == ["indicator_value.submit"]
    office = bearer(token("office"))
    own = client.post(url, headers=office, json={"as_of": "2021-03-12", "value": 86})
    assert own.status_code == 201 and own.json["state"] == "approved"
    assert _actions(app, "IndicatorValue", own.json["id"]) == [
        "indicator_value.submit",
        "indicator_value.approve",
    ]
    before = _count(app, IndicatorValue)
    for body in (
        {"as_of": "2021-03-10", "value": 120},  # a percentage above 100
        {"as_of": "2031-01-01", "value": 50},  # after today
        {"as_of": "2021-03-10", "value": "多"},
        {"as_of": "2021-03-10"},
        {"value": 50},
    ):
        bad = client.post(url, headers=police, json=body)
        assert bad.status_code == 422, (body, bad.get_data(as_text=True))
        assert bad.json["error"]["message"]
    assert _count(app, IndicatorValue) == before
    leader = bearer(token("leader"))
    assert client.post(url, headers=leader, json={"as_of": "2021-03-10", "value": 50}).status_code == 403
    other = bearer(token("other"))
    assert client.post(url, headers=other, json={"as_of": "2021-03-10", "value": 50}).status_code == 404


def test_notice_answer_moves_the_notice_and_is_audited(app, client, world, token):
    headers = bearer(token("police"))
    url = f"/api/v1/notices/{world['notice_a']}/answer"
    etag = client.get(f"/api/v1/notices/{world['notice_a']}", headers=headers).headers["ETag"]
    stale = client.post(url, headers={**headers, "If-Match": '"notice-0-v0"'}, data={"reply_text": "已办理"})
    assert stale.status_code == 412
    with app.app_context():
        assert db.session.get(Notice, world["notice_a"]).state == "issued"
    response = client.post(
        url,
        headers={**headers, "If-Match": etag},
        data={"reply_text": "已加派人手", "files": (io.BytesIO(PDF), "办理情况.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["state"] == "answered" and response.json["rounds"][0]["reply_text"] == "已加派人手"
    assert _actions(app, "Notice", world["notice_a"])[-1] == "notice.answer"
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Evidence.notice_id == world["notice_a"])) == 1
    # Answered: waiting for the issuer's review, not another answer.
    assert client.post(url, headers=headers, data={"reply_text": "再答"}).status_code == 409
    assert client.post(url, headers=bearer(token("leader")), data={"reply_text": "x"}).status_code == 403
    assert client.post(url, headers=bearer(token("other")), data={"reply_text": "x"}).status_code == 404


def test_milestone_is_not_changed_by_a_report_until_approved(app, client, world, token):
    headers = bearer(token("police"))
    client.post(
        f"/api/v1/milestones/{world['m_police']}/reports",
        headers=headers,
        data={"text": "完成", "percent": "100", "claimed_status": "done"},
    )
    with app.app_context():
        m = db.session.get(Milestone, world["m_police"])
        assert m.status == "not_started" and m.percent == 0
