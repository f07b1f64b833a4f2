"""The province view on stored rows: each run's headline columns equal its stored result
(and the migration's backfill equals what a new run stores); the stored 三色 counts equal the
plan's own 驾驶舱 and are recomputed when stale (data_version bumped, a new day, a 督办 or
threshold change, a new run); paging, sorting, searching and the province totals are done
on the server."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.dashboard import province
from app.dashboard.runs import headline
from app.demo import DEMO_PASSWORD
from app.engines import status as rules
from app.extensions import db
from app.models import ForecastRun, Milestone, Notice, Plan, PlanStatusCount, ReminderPolicy, User
from app.models.forecast import HEADLINE_COLUMNS, headline_columns
from app.status import plan_status, stored_counts
from tests.conftest import TEST_AS_OF, csrf_from
from tests.dashboard.conftest import WH, ZQ
from tests.dashboard.html import parse

MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0017_province_stored_rows.py"


def _plan(code):
    return db.session.scalar(select(Plan).where(Plan.code == code))


def _login(client, username="province"):
    token = csrf_from(client, "/login")
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return parse(response.get_data(as_text=True))


def _rows(page) -> list[dict]:
    """Each area row: its plan code and the numbers shown (counts from their links)."""
    out = []
    for tr in page.one("province").find_all("tr", data_testid="area"):
        row = {"plan": tr["data-plan"], "region": tr.find("td", data_testid="area-region").norm_text()}
        row["overdue"] = int(tr.find("td", data_testid="area-overdue").norm_text())
        for a in tr.find_all("a", data_testid="count"):
            colour = a["href"].split("colour=")[1]
            row[colour] = int(a["data-count"])
        score = tr.find("td", data_testid="area-score")
        row["score"] = int(score.norm_text()) if score else None
        out.append(row)
    return out


def _live(code) -> dict:
    ps = plan_status(_plan(code), TEST_AS_OF)
    overdue = sum(1 for r in ps.rows.values() if r.status.days_late > 0)
    return {c: getattr(ps.counts, c) for c in rules.ORDER} | {"overdue": overdue}


def _stored(code) -> PlanStatusCount | None:
    db.session.expire_all()
    return db.session.get(PlanStatusCount, _plan(code).id)


def _shown(client, code) -> dict:
    row = next(r for r in _rows(_page(client, "/province")) if r["plan"] == code)
    return {k: row[k] for k in (*rules.ORDER, "overdue")}


# -- headline columns -------------------------------------------------------------------


def test_every_run_stores_its_headline_in_columns(demo, app):
    with app.app_context():
        runs = db.session.scalars(select(ForecastRun)).all()
        assert len(runs) >= 4  # the demo's history and the two fresh runs
        for run in runs:
            h = headline(run)
            assert h is not None
            assert (run.score, run.stars, run.p_target, run.p50) == (
                h.current_total,
                h.current_stars,
                h.p_target,
                h.p50,
            ), run.id
            assert (run.median_stars, run.target_stars) == (h.median_stars, h.target_stars)
            assert (run.headline_as_of, run.headline_target_date) == (h.as_of, h.target_date)


def test_migration_backfill_equals_what_a_new_run_stores(demo, app):
    spec = importlib.util.spec_from_file_location("m0017", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        for run in db.session.scalars(select(ForecastRun)):
            assert migration._headline(run.result, run.as_of, run.target_date) == headline_columns(
                run.result, run.as_of, run.target_date
            )
    assert headline_columns({"forecast": {}}, TEST_AS_OF, TEST_AS_OF) == dict.fromkeys(HEADLINE_COLUMNS)


# -- stored counts -----------------------------------------------------------------------


def test_stored_counts_equal_the_plans_own_dashboard(demo, app, client):
    _login(client)
    page = _page(client, "/province")
    with app.app_context():
        for code in (WH, ZQ):
            live = _live(code)
            stored = _stored(code)
            assert stored is not None and stored.day == TEST_AS_OF
            assert {k: getattr(stored, k) for k in live} == live, code
            row = next(r for r in _rows(page) if r["plan"] == code)
            assert {k: row[k] for k in live} == live, code
            # and the 驾驶舱's strip shows the same numbers
            dash = _page(client, f"/plans/{code}/dashboard")
            strip = {
                a["href"].split("colour=")[1]: int(a["data-count"])
                for a in dash.one("plan-counts").find_all("a")
                if "colour=" in a["href"]
            }
            assert strip == {c: live[c] for c in rules.ORDER}


def test_stale_counts_are_recomputed_after_data_version_bump(demo, app, client):
    _login(client)
    _page(client, "/province")  # stored
    with app.app_context():
        plan = _plan(WH)
        before = _live(WH)
        version = plan.data_version
        m = db.session.scalar(
            select(Milestone)
            .where(Milestone.plan_id == plan.id, Milestone.status != "done", Milestone.due_date > TEST_AS_OF)
            .order_by(Milestone.due_date)
            .limit(1)
        )
        old_due, m_id = m.due_date, m.id
        m.due_date = TEST_AS_OF - timedelta(days=3)  # now overdue: red
        db.session.commit()
        assert _plan(WH).data_version > version
        assert _stored(WH).data_version < _plan(WH).data_version  # stale
        after = _live(WH)
        assert after["overdue"] == before["overdue"] + 1
    try:
        assert _shown(client, WH) == after
        with app.app_context():
            stored = _stored(WH)
            assert {k: getattr(stored, k) for k in after} == after
            assert stored.data_version == _plan(WH).data_version
    finally:
        with app.app_context():
            db.session.get(Milestone, m_id).due_date = old_due
            db.session.commit()
    assert _shown(client, WH) == before


def test_stale_counts_are_recomputed_on_a_new_day(demo, app, client):
    _login(client)
    _page(client, "/province")
    later = TEST_AS_OF + timedelta(days=90)  # due dates pass: the colours move
    app.config["STARPATH_AS_OF"] = later
    try:
        with app.app_context():
            ps = plan_status(_plan(WH), later)
            live = {c: getattr(ps.counts, c) for c in rules.ORDER}
            live["overdue"] = sum(1 for r in ps.rows.values() if r.status.days_late > 0)
            assert live != _live(WH)
        assert _shown(client, WH) == live
        with app.app_context():
            assert _stored(WH).day == later
    finally:
        app.config["STARPATH_AS_OF"] = TEST_AS_OF
    with app.app_context():
        assert _shown(client, WH) == _live(WH)
        assert _stored(WH).day == TEST_AS_OF


def test_a_threshold_or_notice_change_forgets_the_stored_counts(demo, app, client):
    """What data_version does not count (三色 thresholds, 督办, returned reports) deletes the row."""
    _login(client)
    _page(client, "/province")
    with app.app_context():
        plan = _plan(WH)
        before = _live(WH)
        policy = db.session.scalar(select(ReminderPolicy).where(ReminderPolicy.plan_id == plan.id))
        created = policy is None
        if created:
            policy = ReminderPolicy(plan_id=plan.id)
            db.session.add(policy)
        old = (policy.status_soon_days, policy.status_behind_points)
        policy.status_soon_days, policy.status_behind_points = 365, 0  # much more turns 黄
        db.session.commit()
        assert _stored(WH) is None
        wider = _live(WH)
        assert wider["yellow"] > before["yellow"], (before, wider)
    try:
        assert _shown(client, WH) == wider
        with app.app_context():
            # a 督办 on a blue milestone: awaiting a reply, the milestone turns 黄
            plan = _plan(WH)
            ps = plan_status(plan, TEST_AS_OF)
            blue = next(r.milestone for r in ps.rows.values() if r.colour == rules.BLUE)
            issuer = db.session.scalar(select(User).where(User.username == "wh-leader"))
            notice = Notice(
                milestone_id=blue.id,
                department_id=blue.lead_department_id,
                issued_by_id=issuer.id,
                text="请加快进度",
                reply_due=TEST_AS_OF + timedelta(days=5),
            )
            db.session.add(notice)
            db.session.commit()
            notice_id = notice.id
            assert _stored(WH) is None
            with_notice = _live(WH)
            assert with_notice != wider
        assert _shown(client, WH) == with_notice
        with app.app_context():
            db.session.delete(db.session.get(Notice, notice_id))
            db.session.commit()
            assert _stored(WH) is None
    finally:
        with app.app_context():
            policy = db.session.scalar(select(ReminderPolicy).where(ReminderPolicy.plan_id == _plan(WH).id))
            if created:
                db.session.delete(policy)
            else:
                policy.status_soon_days, policy.status_behind_points = old
            db.session.commit()
    assert _shown(client, WH) == before


def test_a_new_run_makes_the_counts_stale(demo, app):
    with app.app_context():
        today = TEST_AS_OF
        stored_counts.refresh([_plan(WH).id], today)
        db.session.commit()
        assert _plan(WH).id not in stored_counts.stale_plan_ids(today)
        run = db.session.scalar(select(ForecastRun).where(ForecastRun.plan_id == _plan(WH).id).limit(1))
        copy = ForecastRun(
            plan_id=run.plan_id,
            as_of=run.as_of,
            target_date=run.target_date,
            data_key="another-key",
            result=run.result,
        )
        db.session.add(copy)
        db.session.commit()
        try:
            assert _stored(WH) is None  # the new latest run forgot the row
            stored_counts.refresh([_plan(WH).id], today)
            db.session.commit()
            assert _stored(WH).run_id == copy.id
            # a row written by a page that raced the new run: the hourly refresh heals it
            db.session.execute(PlanStatusCount.__table__.update().values(run_id=run.id))
            db.session.commit()
            assert _plan(WH).id in stored_counts.stale_plan_ids(today)
            stored_counts.refresh_stale(today)
            assert _stored(WH).run_id == copy.id
        finally:
            db.session.delete(copy)
            db.session.commit()


def test_the_refresh_job_stores_counts_of_the_plans_it_looks_at(demo, app):
    from workflows.forecast_recompute import recompute_forecast, refresh_all

    with app.app_context():
        db.session.execute(PlanStatusCount.__table__.delete())
        db.session.commit()
        recompute_forecast(_plan(WH).id)
        assert _stored(WH) is not None and _stored(ZQ) is None
        result = refresh_all()
        assert result == {"queued": 0, "counts_refreshed": 1}  # both current: ZQ's counts only
        for code in (WH, ZQ):
            stored = _stored(code)
            assert {k: getattr(stored, k) for k in _live(code)} == _live(code)
        assert stored_counts.stale_plan_ids(TEST_AS_OF) == []


# -- paging, sorting, searching, totals -----------------------------------------------------


def test_paging(demo, client, monkeypatch):
    monkeypatch.setattr(province, "PER_PAGE", 1)
    _login(client)
    first = _page(client, "/province?sort=region&dir=asc")
    second = _page(client, "/province?sort=region&dir=asc&page=2")
    a, b = _rows(first), _rows(second)
    assert len(a) == len(b) == 1 and a[0]["plan"] != b[0]["plan"]
    assert {a[0]["plan"], b[0]["plan"]} == {WH, ZQ}
    assert a[0]["region"] < b[0]["region"]
    assert "第 1 / 2 页" in first.one("pager").norm_text() and first.by_testid("pager-next")
    assert second.by_testid("pager-prev") and not second.by_testid("pager-next")
    # the pager keeps the order; a page past the end shows the last; junk is page 1
    assert "sort=region" in first.one("pager-next")["href"] and "page=2" in first.one("pager-next")["href"]
    assert _rows(_page(client, "/province?sort=region&dir=asc&page=99")) == b
    assert _rows(_page(client, "/province?sort=region&dir=asc&page=abc")) == a
    desc = _rows(_page(client, "/province?sort=region&dir=desc"))
    assert desc[0]["plan"] == b[0]["plan"]


@pytest.mark.parametrize("key", ["red", "yellow", "blue", "done", "overdue", "score", "region", "plan"])
def test_sort_keys_order_the_whole_list_on_the_server(demo, client, monkeypatch, key):
    monkeypatch.setattr(province, "PER_PAGE", 1)
    _login(client)
    for direction in ("asc", "desc"):
        rows = [_rows(_page(client, f"/province?sort={key}&dir={direction}&page={n}"))[0] for n in (1, 2)]
        values = [r[key] if key in rows[0] else r["plan"] for r in rows]
        if key == "plan":
            values = [r["plan"] for r in rows]  # titles sort as the demo's codes do
        assert values == sorted(values, reverse=direction == "desc"), (key, direction, values)


def test_sort_key_is_not_ignored(demo, client):
    """At least one numeric key orders the two areas differently from the default."""
    _login(client)
    default = [r["plan"] for r in _rows(_page(client, "/province"))]
    differs = False
    for key in ("red", "yellow", "blue", "done", "overdue", "score"):
        for direction in ("asc", "desc"):
            rows = _rows(_page(client, f"/province?sort={key}&dir={direction}"))
            if rows[0][key] != rows[1][key] and [r["plan"] for r in rows] != default:
                differs = True
    assert differs


def test_search_by_region_or_plan(demo, client):
    _login(client)
    assert [r["plan"] for r in _rows(_page(client, "/province?q=威海"))] == [WH]
    assert [r["plan"] for r in _rows(_page(client, "/province?q=3n"))] == [ZQ]
    assert [r["plan"] for r in _rows(_page(client, "/province?q=WeiHai"))] == [WH]  # any case
    page = _page(client, "/province?q=%25")  # a literal %, not a wildcard
    assert _rows(page) == [] and "没有区域" in page.one("province").norm_text()
    # the totals stay the whole province's
    assert page.one("total-plans").norm_text() == "2"
    # LIKE's one-character wildcard and its escape character are literal too
    for q in ("_", "hai_1313", "%5C", "weihai%5C-1313"):
        assert _rows(_page(client, f"/province?q={q}")) == [], q


def test_totals_are_the_whole_province(demo, app, client, monkeypatch):
    monkeypatch.setattr(province, "PER_PAGE", 1)
    _login(client)
    page = _page(client, "/province")
    with app.app_context():
        live = [_live(code) for code in (WH, ZQ)]
    for key in (*rules.ORDER, "overdue"):
        assert int(page.one(f"total-{key}").norm_text()) == sum(x[key] for x in live), key
    assert int(page.one("total-all").norm_text()) == sum(sum(x[c] for c in rules.ORDER) for x in live)
    assert page.by_testid("totals-stale") == [] or "个地区" in page.one("totals-stale").norm_text()


def test_totals_note_stale_rows_off_the_page(demo, app, client, monkeypatch):
    monkeypatch.setattr(province, "PER_PAGE", 1)
    _login(client)
    with app.app_context():
        db.session.execute(PlanStatusCount.__table__.delete())
        db.session.commit()
    page = _page(client, "/province?sort=region&dir=asc")
    assert "其中 1 个地区" in page.one("totals-stale").norm_text()
    _page(client, "/province?sort=region&dir=asc&page=2")
    assert _page(client, "/province").by_testid("totals-stale") == []


def test_dashboard_choice_for_several_plans_reads_stored_rows(demo, client):
    _login(client)
    page = _page(client, "/dashboard")
    links = {a["href"] for a in page.one("plans").find_all("a") if a["href"].endswith("/dashboard")}
    assert links == {f"/plans/{WH}/dashboard", f"/plans/{ZQ}/dashboard"}


def test_xlsx_lists_every_area_from_stored_rows(demo, app, client, monkeypatch):
    import io

    from openpyxl import load_workbook

    monkeypatch.setattr(province, "PER_PAGE", 1)
    _login(client)
    ws = load_workbook(io.BytesIO(client.get("/province.xlsx?sort=red&dir=desc").data)).active
    header = [c.value for c in ws[2]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=3)]
    assert len(rows) == 2  # all areas, not a page
    with app.app_context():
        live = {_plan(code).region.name: _live(code) for code in (WH, ZQ)}
    reds = [r["红"] for r in rows]
    assert reds == sorted(reds, reverse=True)
    for r in rows:
        assert (r["红"], r["黄"], r["蓝"], r["完成"], r["逾期"]) == tuple(
            live[r["区域"]][k] for k in ("red", "yellow", "blue", "done", "overdue")
        )
