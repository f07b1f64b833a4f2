"""Migration 0011 on a database holding duplicate pending reports (what racing
submissions left before the index): the newest pending report per milestone and
department is kept, older pending ones become "superseded" with an audit row, and
the index and the append-only triggers are in place afterwards. Run on SQLite,
and on PostgreSQL (a scratch database) when TEST_DATABASE_URL names one."""

import os

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import create_app

STAMPS = {"c": "2021-01-01 08:00:00", "u": "2021-01-01 08:00:00"}
ROWS = [
    "INSERT INTO region (id, name, kind, created_at, updated_at) VALUES (1, '甲市', 'city', :c, :u)",
    "INSERT INTO department (id, region_id, name, kind, created_at, updated_at) "
    "VALUES (1, 1, '甲市公安局', 'government', :c, :u), (2, 1, '甲市交通运输局', 'government', :c, :u)",
    'INSERT INTO "user" (id, username, display_name, password_hash, role, region_id, department_id, active, '
    "created_at, updated_at) VALUES (1, 'u', 'u', 'x', 'department', 1, 1, TRUE, :c, :u)",
    "INSERT INTO plan (id, region_id, code, title, period_start, period_end, targets, created_at, "
    "updated_at) VALUES (1, 1, 'p', 'p', '2020-01-01', '2022-12-31', '[]', :c, :u)",
    "INSERT INTO plan_node (id, plan_id, key, kind, title, text, position, created_at, updated_at) "
    "VALUES (1, 1, 'n', 'program', 'n', '', 0, :c, :u)",
    "INSERT INTO milestone (id, plan_id, node_id, key, title, text, due_date, baseline_due_date, "
    "lead_department_id, status, percent, version, targets, created_at, updated_at) "
    "VALUES (1, 1, 1, 'm', 'm', '', '2021-03-31', '2021-03-31', 1, 'not_started', 0, 1, '[]', :c, :u)",
]
# id, department, state, created_at: department 1 has three pending reports (and an
# approved one, untouched); department 2 has one pending report (untouched).
REPORTS = [
    (1, 1, "submitted", "2021-03-01 09:00:00"),
    (2, 1, "draft", "2021-03-03 09:00:00"),
    (3, 1, "returned", "2021-03-02 09:00:00"),
    (4, 1, "approved", "2021-02-01 09:00:00"),
    (5, 2, "submitted", "2021-03-01 09:00:00"),
    (6, 1, "submitted", "2021-03-03 09:00:00"),  # same time as 2: the higher id is the newer
]
REPORT_SQL = (
    "INSERT INTO progress_report (id, milestone_id, department_id, author_id, kind, text, percent, "
    "claimed_status, state, version, created_at, updated_at) "
    "VALUES (:id, 1, :dept, 1, 'lead', '进展', 50, 'in_progress', :state, 1, :at, :at)"
)


def _databases():
    yield pytest.param("sqlite", id="sqlite")
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        yield pytest.param(url, id="postgresql")


@pytest.fixture(params=list(_databases()))
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    server = make_url("postgresql+psycopg://" + request.param.split("://", 1)[1])
    scratch = f"{server.database}_m0011"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    yield server.set(database=scratch).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    admin.dispose()


def test_duplicates_are_resolved_then_held_by_the_index(database):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "x"})
    engine = create_engine(database)
    with app.app_context():
        upgrade(revision="0009")
        with engine.begin() as conn:
            for row in ROWS:
                conn.execute(text(row), STAMPS)
            for id_, dept, state, at in REPORTS:
                conn.execute(text(REPORT_SQL), {"id": id_, "dept": dept, "state": state, "at": at})
        upgrade()
        with engine.connect() as conn:
            states = dict(conn.execute(text("SELECT id, state FROM progress_report")).all())
            events = conn.execute(
                text(
                    "SELECT object_id, action, milestone_id, region_id, summary FROM audit_event "
                    "ORDER BY object_id"
                )
            ).all()
        assert states == {
            1: "superseded",
            2: "superseded",
            3: "superseded",
            4: "approved",
            5: "submitted",
            6: "submitted",
        }
        assert [(e.object_id, e.action, e.milestone_id, e.region_id) for e in events] == [
            (i, "report.supersede", 1, 1) for i in (1, 2, 3)
        ]
        assert all("保留最新一份（编号 6）" in e.summary for e in events)

        # The index now holds the rule: a second pending report for the pair is refused ...
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(REPORT_SQL), {"id": 7, "dept": 1, "state": "draft", "at": "2021-03-04"})
        # ... while settled reports may be many.
        with engine.begin() as conn:
            conn.execute(text(REPORT_SQL), {"id": 8, "dept": 1, "state": "approved", "at": "2021-03-04"})
        # And the audit rows cannot be rewritten.
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET summary = '改写'"))
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))

        downgrade(revision="0009")
        with engine.begin() as conn:
            conn.execute(text(REPORT_SQL), {"id": 9, "dept": 1, "state": "draft", "at": "2021-03-05"})
            conn.execute(text(REPORT_SQL), {"id": 10, "dept": 1, "state": "draft", "at": "2021-03-05"})
            conn.execute(text("DELETE FROM audit_event"))
    engine.dispose()
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
