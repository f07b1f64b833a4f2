"""A browser-like client in the standard library, for the parallel-submission test's
client threads (each its own cookie jar, so its own signed-in session)."""

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
            return exc.code, exc.headers.get("Location", ""), exc.read().decode(errors="replace")

    def csrf(self, path: str) -> str:
        status, _, page = self.request(path)
        match = CSRF_RE.search(page)
        assert match, f"no CSRF token on {path} (status {status})"
        return match.group(1)

    def login(self, username: str, password: str) -> None:
        token = self.csrf("/login")
        status, _, _ = self.request(
            "/login", {"username": username, "password": password, "csrf_token": token}
        )
        assert status == 302, f"log-in of {username} answered {status}"

    def cookies(self) -> list:
        return list(self.jar)


def submit_report(base: str, cookies: list, path: str, data: dict, barrier, results) -> None:
    """One client: the same signed-in session posts the report once the barrier opens."""
    browser = Browser(base)
    for cookie in cookies:
        browser.jar.set_cookie(cookie)
    barrier.wait(timeout=60)
    status, location, page = browser.request(path, data)
    results.put((status, location, page[:300] if status >= 500 else ""))
