"""自评材料 in Chromium: the province opens the list of packs, one area's 中期考核 page
(total and stars as on 星级测算), downloads the .zip; the same page on a phone."""

import io
import zipfile
from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Evidence, Indicator, Milestone, Plan, ProgressReport, User
from app.uploads import storage_dir
from tests.browser.conftest import SHOTS
from tests.browser.pages import login as _login
from tests.conftest import TEST_AS_OF

SAMPLES = 500


def _demo_with_evidence(app):
    """The demo, one approved report with a file on a milestone that feeds a standard
    indicator, and the stored run of the demo date."""
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
        m = db.session.scalars(
            select(Milestone)
            .join(Milestone.indicators)
            .where(Milestone.plan_id == plan.id, Indicator.standard_indicator.is_not(None))
            .order_by(Milestone.due_date)
        ).first()
        office = db.session.scalar(select(User).where(User.username == "wh-office"))
        report = ProgressReport(
            milestone_id=m.id,
            department_id=m.lead_department_id,
            author_id=office.id,
            text="阶段验收完成",
            percent=m.percent,
            claimed_status=m.status,
            state="approved",
            reviewed_by_id=office.id,
            reviewed_at=datetime(2021, 3, 1, 2),
            kind="part",
        )
        db.session.add(report)
        db.session.flush()
        (storage_dir() / ("b" * 40)).write_bytes(b"%PDF-1.4 demo")
        db.session.add(
            Evidence(
                report_id=report.id,
                milestone_id=m.id,
                uploaded_by_id=office.id,
                original_name="阶段验收报告.pdf",
                stored_name="b" * 40,
                sha256="0" * 64,
                size=13,
                content_type="application/pdf",
            )
        )
        db.session.commit()
        run, _ = store_snapshot(plan, TEST_AS_OF, samples=SAMPLES)
        total, stars, title = run.result["current"]["total"], run.result["current"]["stars"], m.title
        db.session.remove()
    return total, stars, title


def test_province_takes_a_pack(app, live_server, browser, shot):
    total, stars, title = _demo_with_evidence(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    _login(page, live_server, "province")
    page.goto(f"{live_server}/packs")
    rows = page.get_by_test_id("pack-list").locator("tbody tr")
    expect(rows).to_have_count(2)
    shot(page, "packs-index")
    page.locator('tr[data-plan="weihai-1313"]').get_by_role("link", name="查看").first.click()
    expect(page.get_by_test_id("pack-title")).to_contain_text("中期考核自评材料")
    expect(page.get_by_test_id("pack-total")).to_have_text(f"{total} 分")
    expect(page.get_by_test_id("pack-stars")).to_have_attribute("data-stars", str(stars))
    expect(page.get_by_test_id("pack-run")).to_contain_text("一致")
    expect(page.get_by_test_id("pack-table").locator("tbody tr")).to_have_count(49)
    shot(page, "packs-page")
    page.screenshot(path=str(SHOTS / "packs-page-view.png"))
    page.get_by_test_id("pack-table").locator('tr[data-number="9"]').scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "packs-page-table.png"))
    with page.expect_download() as info:
        page.get_by_test_id("pack-download").click()
    download = info.value
    assert download.suggested_filename == "weihai-1313-中期考核自评材料-2021-03-15.zip"
    zf = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
    assert any(n.endswith(f"/{title}/阶段验收报告.pdf") for n in zf.namelist())
    assert "自评材料索引.xlsx" in zf.namelist()
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _login(phone, live_server, "province")
    phone.goto(f"{live_server}/plans/zhangqiu-3n/self-assessment?kind=final")
    expect(phone.get_by_test_id("pack-title")).to_contain_text("终期验收自评材料")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    shot(phone, "packs-page-phone")
    phone.screenshot(path=str(SHOTS / "packs-page-phone-view.png"))
    phone.close()
