"""The 通报 pages: the list, the on-demand button (CSRF, roles, queued job), the printable
page, the Excel file (same numbers), and the region scope (404)."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Plan
from tests.bulletins.scenario import build_scenario
from tests.conftest import csrf_from, login
from workflows import bulletins
from workflows.queue import PENDING, job_status

LIST = "/plans/plan-a/bulletins"


@pytest.fixture
def sc(app):
    with app.app_context():
        ids = build_scenario()
        plan = db.session.get(Plan, ids["plan_a"])
        b, _ = bulletins.issue(plan, "weekly", date(2021, 3, 15))
        ids["bulletin"] = b.id
        db.session.remove()
    return ids


def test_list_shows_each_issued_bulletin(client, sc):
    login(client, "leader")
    html = client.get(LIST).get_data(as_text=True)
    assert f'href="/bulletins/{sc["bulletin"]}"' in html
    assert "2021年3月15日" in html and "周报" in html and "系统（每周定时）" in html
    assert '<td class="num c-red">1</td>' in html
    assert 'data-testid="issue-form"' in html


def test_issue_on_demand_needs_csrf_and_the_role(app, client, sc):
    login(client, "leader")
    assert client.post(f"{LIST}/issue").status_code == 400  # no CSRF token
    token = csrf_from(client, LIST)
    response = client.post(f"{LIST}/issue", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert job_status(bulletins.on_demand_job_id(sc["plan_a"])) in PENDING
    html = client.get(LIST).get_data(as_text=True)
    assert "已提交生成临时通报" in html and 'data-testid="job-state"' in html
    login(client, "police")  # a department may read a bulletin, not list or issue them
    assert (
        client.post(f"{LIST}/issue", data={"csrf_token": csrf_from(client, "/notifications")}).status_code
        == 403
    )
    assert client.get(LIST).status_code == 403
    login(client, "province")  # reads everything, issues nothing
    assert client.get(LIST).status_code == 200
    assert 'data-testid="issue-form"' not in client.get(LIST).get_data(as_text=True)
    assert client.post(f"{LIST}/issue", data={"csrf_token": csrf_from(client, LIST)}).status_code == 403


def test_the_queued_job_issues_the_bulletin(app, client, sc):
    from rq import SimpleWorker

    from workflows.worker import build_worker

    login(client, "office")
    client.post(f"{LIST}/issue", data={"csrf_token": csrf_from(client, LIST)})
    with app.app_context():
        build_worker(app, ["default"], worker_class=SimpleWorker).work(burst=True)
        db.session.remove()
    html = client.get(LIST).get_data(as_text=True)
    body = html.split("<tbody>", 1)[1]
    assert html.count('data-bulletin="') == 2
    assert "<td>临时通报</td>" in body and "<td>office<div" in body  # the issuer's name
    assert 'data-testid="job-state"' not in html


def test_printable_page(client, sc):
    login(client, "leader")
    html = client.get(f"/bulletins/{sc['bulletin']}").get_data(as_text=True)
    assert "周报通报" in html and "数据截至 2021年3月15日" in html
    assert 'data-testid="p-target">42.0%<' in html and "据 2021年3月15日 星级测算" in html
    assert "警务云建设" in html and "逾期 15 天" in html
    assert 'data-testid="bulletin-assessment"' in html
    assert "bulletins.css" in html and "print.js" in html and "data-print" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_xlsx_has_the_red_items_and_the_forecast(client, sc):
    login(client, "leader")
    response = client.get(f"/bulletins/{sc['bulletin']}.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["概况", "红黄事项", "考评"]
    overview = {r[0]: r[1] for r in wb["概况"].iter_rows(values_only=True) if r and r[0]}
    assert overview["到 2021年10月31日 达到 4 星的概率"] == "42.0%"
    assert overview["得分中位数"] == 341.5 and overview["红"] == 1
    assert overview["数据日期"] == "2021年3月15日"
    items = list(wb["红黄事项"].iter_rows(values_only=True))
    assert items[0][:5] == ("颜色", "里程碑", "所属任务", "牵头部门", "期限")
    red = [r for r in items[1:] if r[0] == "红"]
    assert [(r[1], r[3], r[4], r[6]) for r in red] == [("警务云建设", "甲市公安局", "2021年2月28日", 15)]
    assert wb["红黄事项"].column_dimensions["B"].width == 40
    table = {r[0]: r for r in wb["考评"].iter_rows(values_only=True) if r and r[0]}
    assert table["甲市公安局"][1:7] == (2, "50%（1/2）", "50%（1/2）", 0, 1, "50%（1/2）")


def test_scope(client, sc):
    for user in ("other_office", "other"):
        login(client, user)
        assert client.get(f"/bulletins/{sc['bulletin']}").status_code == 404
        assert client.get(f"/bulletins/{sc['bulletin']}.xlsx").status_code == 404
    login(client, "other_office")
    assert client.get(LIST).status_code == 404
    assert (
        client.post(f"{LIST}/issue", data={"csrf_token": csrf_from(client, "/notifications")}).status_code
        == 404
    )
    login(client, "police")  # in the region: the bulletin is circulated to it
    assert client.get(f"/bulletins/{sc['bulletin']}").status_code == 200
    login(client, "province")
    assert client.get(f"/bulletins/{sc['bulletin']}").status_code == 200
    assert client.get("/bulletins/999999").status_code == 404
