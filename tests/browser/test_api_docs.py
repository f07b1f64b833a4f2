"""/api/v1/docs in Chromium: Swagger UI starts under the strict Content-Security-Policy from the
app's own assets (no console error, every operation listed); the 接口令牌 page makes a token."""

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.pages import login
from tests.factories import PASSWORD, build_world


def test_docs_page_renders_every_operation(app, live_server, browser, shot, client):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{live_server}/api/v1/docs")
    operations = client.get("/api/v1/openapi.json").json["paths"]
    count = sum(1 for item in operations.values() for m in item if m in {"get", "post", "put"})
    expect(page.locator(".opblock")).to_have_count(count, timeout=15000)
    expect(page.get_by_text("星途 StarPath 开放接口")).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/api/v1/milestones").first.click()
    expect(page.get_by_text("三色：red / yellow / blue / done").first).to_be_visible()
    shot(page, "api_docs")
    assert not [e for e in errors if "favicon" not in e], errors
    assert all(url.startswith(live_server) for url in requested), requested  # no CDN
    page.close()


def test_token_page_makes_a_token(app, live_server, browser, shot):
    with app.app_context():
        build_world()
        db.session.remove()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, live_server, "police", PASSWORD)
    page.get_by_role("link", name="接口令牌").click()
    page.get_by_label("名称（用途）").fill("一网统管对接")
    page.get_by_role("button", name="创建令牌").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("sp_")
    expect(page.get_by_test_id("tokens")).to_contain_text("一网统管对接")
    shot(page, "api_tokens")
    page.get_by_role("button", name="吊销").click()
    expect(page.get_by_test_id("tokens")).to_contain_text("已吊销")
    page.close()
