"""Security headers on every page: the CSP forbids framing, foreign form targets and <base>."""

from tests.conftest import login
from tests.factories import build_world


def test_csp_on_public_and_signed_in_pages(app, client):
    with app.app_context():
        build_world()
    for response in (client.get("/login"), None):
        if response is None:
            login(client, "office")
            response = client.get("/plans/plan-a")
        csp = {
            part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
            for part in response.headers["Content-Security-Policy"].split(";")
        }
        assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'"
        assert csp["base-uri"] == "'none'" and csp["script-src"] == "'self'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
