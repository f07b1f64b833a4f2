"""One truth for dates, as a user checks it on the pinned demo clock (2021-03-15):
a change made today shows today on every page, whatever the real hour; an extension
clears 晚于期限 / 逾期 at once everywhere; audit times say which clock they are."""

import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import clock
from app.dates import local_date
from app.extensions import db
from app.forecasting.known import end_of
from app.forecasting.snapshot import latest_run, store_snapshot
from app.forecasting.state import build_state
from app.models import AuditEvent, Extension, Milestone, Plan, ProgressReport
from tests.conftest import csrf_from, hidden, login
from tests.plans.test_graph_pages import SAMPLES, _tight_world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _real_time(monkeypatch, value: datetime):
    """Pin the real UTC time of day (the date is the real one's business: 2026 here)."""
    monkeypatch.setattr(clock, "utcnow", lambda: value)


def _report_and_approve(client, milestone_id):
    login(client, "police")
    token = csrf_from(client, f"/milestones/{milestone_id}/report")
    data = {
        "csrf_token": token,
        "percent": 100,
        "claimed_status": "done",
        "text": "已完成平台升级并通过验收",
        "action": "submit",
        "files": [(io.BytesIO(PDF), "验收报告.pdf")],
    }
    response = client.post(
        f"/milestones/{milestone_id}/report", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    login(client, "office")
    queue = client.get("/review").get_data(as_text=True)
    report_id = int(re.search(r"/review/reports/(\d+)", queue).group(1))
    url = f"/review/reports/{report_id}"
    token = csrf_from(client, url)
    versions = {name: hidden(client, url, name) for name in ("version", "milestone_version")}
    response = client.post(f"{url}/approve", data={"csrf_token": token, **versions})
    assert response.status_code == 302
    return queue, report_id


@pytest.mark.parametrize(
    "real_utc,beijing",
    [
        (datetime(2026, 11, 30, 1, 30), "09:30"),  # Beijing morning
        (datetime(2026, 11, 30, 18, 30), "02:30"),  # after 16:00 UTC: already the next day in Beijing
    ],
)
def test_report_approved_on_the_pinned_day_shows_that_day(client, app, monkeypatch, real_utc, beijing):
    with app.app_context():
        world = _tight_world()[0]
    _real_time(monkeypatch, real_utc)
    queue, report_id = _report_and_approve(client, world["m_police"])

    # The review queue showed the submission on the pinned day.
    assert f"2021年3月15日 {beijing}" in queue and "2021年3月16日" not in queue
    page = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    report = page[page.index(f'data-testid="report-{report_id}"') :]
    report = report[: report.index("</li>")]
    assert f"提交于 2021年3月15日 {beijing}" in report and f"通过于 2021年3月15日 {beijing}" in report
    facts = page[page.index("<dt>实际完成</dt>") :]
    assert facts.startswith("<dt>实际完成</dt><dd>2021年3月15日</dd>")
    assert "2021年3月16日" not in page

    with app.app_context():
        r = db.session.get(ProgressReport, report_id)
        assert local_date(r.submitted_at) == local_date(r.reviewed_at) == clock.today()
        # Every "known on a date" rule sees it today, not tomorrow.
        assert r.reviewed_at < end_of(clock.today())
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        key = db.session.get(Milestone, world["m_police"]).key
        m = next(m for m in build_state(plan, clock.today())[0]["milestones"] if m["id"] == key)
        assert m["finished"] == "2021-03-15"


def test_audit_history_says_which_clock(client, app, monkeypatch):
    with app.app_context():
        world = _tight_world()[0]
    _real_time(monkeypatch, datetime(2026, 11, 30, 18, 30))
    _report_and_approve(client, world["m_police"])
    page = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    note = page[page.index('data-testid="history-clock"') :]
    assert "系统时间" in note[: note.index("</p>")] and "系统设定日期（2021年3月15日）" in note
    table = page[page.index('data-testid="history"') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<tr><td>(.*?)</td>", table)
    with app.app_context():
        n = len(
            db.session.scalars(select(AuditEvent).where(AuditEvent.milestone_id == world["m_police"])).all()
        )
    assert n >= 3 and len(cells) == n
    assert all("系统时间 " in cell and 'class="systime"' in cell for cell in cells)


def _extend(client, milestone_id, new_due: str, reason="设备到货延迟"):
    url = f"/milestones/{milestone_id}/extend"
    token = csrf_from(client, url)
    version = hidden(client, url, "version")
    response = client.post(
        url, data={"csrf_token": token, "version": version, "new_due": new_due, "reason": reason}
    )
    assert response.status_code == 302


def _own(page: str) -> str:
    own = page[page.index('data-testid="own-forecast"') :]
    return own[: own.index("</p>")]


def _heading(page: str) -> str:
    return page[page.index("<h1>") : page.index("</h1>")]


def _graph_row(page: str, milestone_id: int) -> str:
    rows = re.findall(rf'<tr data-milestone="{milestone_id}">.*?</tr>', page, re.S)
    assert rows, "the milestone is listed on the graph page"
    return "".join(rows)


def test_an_extension_clears_late_everywhere_at_once(client, app):
    """警务云建设 (due 2021-02-28, 40 %) is overdue and late; the plan office extends it to
    2021-03-31. Every page says so at once, before the worker recomputes the stored run
    (the page says the run predates the extension), and after it."""
    with app.app_context():
        world, plan = _tight_world()
        store_snapshot(plan, clock.today(), samples=SAMPLES)
    late_id = world["m_late"]
    login(client, "office")
    page = client.get(f"/milestones/{late_id}").get_data(as_text=True)
    assert "晚于期限" in _own(page) and "逾期 15 天" in _heading(page)
    assert "晚于期限" in _graph_row(client.get("/plans/plan-a/graph").get_data(as_text=True), late_id)

    _extend(client, late_id, "2021-03-31")

    page = client.get(f"/milestones/{late_id}").get_data(as_text=True)
    assert "晚于期限" not in _own(page) and "落后" not in _own(page)
    assert "2021年3月31日" in _own(page) and "逾期" not in _heading(page)
    assert "完成期限有调整（延期）" in page  # the stored run predates the extension
    graph_page = client.get("/plans/plan-a/graph").get_data(as_text=True)
    row = _graph_row(graph_page, late_id)
    assert "晚于期限" not in row and "逾期" not in row and "落后" not in row
    node = next(n for n in client.get("/plans/plan-a/graph.json").get_json()["nodes"] if n["id"] == late_id)
    assert (node["overdue"], node["late"], node["at_risk"], node["due"]) == (
        False,
        False,
        False,
        "2021-03-31",
    )
    # The extension itself is a change of today: it shows on the pinned day.
    records = page[page.index("延期记录") :]
    assert "2021年2月28日 → 2021年3月31日" in records and "2021年3月15日" in records

    # The worker's recompute sees the extension (granted today, known today) and agrees.
    with app.app_context():
        ext = db.session.scalars(select(Extension)).one()
        assert local_date(ext.created_at) == clock.today()
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        run, new = store_snapshot(plan, clock.today(), samples=SAMPLES)
        assert new and latest_run(plan).id == run.id
        entry = run.result["graph"]["milestones"][str(late_id)]
        assert (entry["due"], entry["overdue"]) == ("2021-03-31", False)
        # 晚于期限 now means the forecast's median finish is after the new due date, nothing else.
        assert entry["late"] == (entry["forecast_finish"] > "2021-03-31")
    data = client.get("/plans/plan-a/graph.json").get_json()
    assert data["basis"] == "stored"
    node = next(n for n in data["nodes"] if n["id"] == late_id)
    assert not node["overdue"] and node["late"] == entry["late"]
    page = client.get(f"/milestones/{late_id}").get_data(as_text=True)
    assert ("晚于期限" in _own(page)) == entry["late"] and "取自最近一次测算" in page


def test_plan_tree_counts_overdue_by_the_same_rule(client, app):
    with app.app_context():
        world = _tight_world()[0]
        m = db.session.get(Milestone, world["m_late"])
    login(client, "office")
    page = client.get("/plans/plan-a").get_data(as_text=True)
    totals = page[page.index('data-testid="plan-totals"') :].split("</section>")[0]
    assert '<div class="bad"><b>1</b><span>逾期</span></div>' in totals
    assert "逾期 15 天" in page
    _extend(client, m.id, "2021-03-31")
    page = client.get("/plans/plan-a").get_data(as_text=True)
    totals = page[page.index('data-testid="plan-totals"') :].split("</section>")[0]
    assert '<div class="bad"><b>0</b><span>逾期</span></div>' in totals
    assert "逾期 15 天" not in page


def test_known_on_a_date_means_by_midnight_beijing_time(ctx):
    """An indicator value reviewed at 23:30 Beijing time on 3/15 is known on 3/15; one
    reviewed at 00:30 on 3/16 (16:30 UTC on 3/15) is not: the day pages show it on."""
    from app.dates import from_local
    from app.forecasting.known import known_values
    from app.models import Indicator, IndicatorValue

    world = _tight_world()[0]
    ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
    for hour, value, day in ((23, 80.0, 15), (0, 85.0, 16)):
        db.session.add(
            IndicatorValue(
                indicator_id=ind.id,
                as_of=date(2021, 3, 15),
                value_number=value,
                source="测试",
                state="approved",
                entered_by_id=world["office"],
                reviewed_by_id=world["office"],
                reviewed_at=from_local(datetime(2021, 3, day, hour, 30)),
            )
        )
    db.session.commit()
    assert end_of(date(2021, 3, 15)) == datetime(2021, 3, 15, 16, 0)
    assert [r.value_number for r in known_values([ind.id], date(2021, 3, 15))[ind.id]] == [80.0]
    assert [r.value_number for r in known_values([ind.id], date(2021, 3, 16))[ind.id]] == [80.0, 85.0]
