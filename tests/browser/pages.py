"""What every browser test does: log in as a user, check a page fits a phone."""

from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def login(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form (as a fresh visitor) and wait for the signed-in page."""
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"
