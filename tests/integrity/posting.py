"""A browser-like client in the standard library, for the parallel-submission test.

Run as a program (`python -m tests.integrity.posting`) it is one client process: it
reads {base, cookie, path, data, start} as JSON on stdin, waits for the shared start
instant, posts once and prints [status, location, body-if-5xx] as JSON. Plain
subprocesses, so nothing of pytest or the app is re-imported in the child."""

import http.cookiejar
import json
import re
import sys
import time
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


def cookie_header(browser: Browser) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in browser.jar)


def main() -> None:
    job = json.load(sys.stdin)
    request = urllib.request.Request(
        job["base"] + job["path"],
        data=urllib.parse.urlencode(job["data"]).encode(),
        headers={"Cookie": job["cookie"]},
    )
    opener = urllib.request.build_opener(NoRedirect())
    time.sleep(max(0.0, job["start"] - time.time()))
    try:
        with opener.open(request, timeout=60) as response:
            answer = [response.status, response.headers.get("Location", ""), ""]
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        answer = [exc.code, exc.headers.get("Location", ""), body[:300] if exc.code >= 500 else ""]
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
