"""Migration 0008 on a database that already holds answered and unanswered 督办."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from app import create_app

STAMPS = {"c": "2021-01-01", "u": "2021-01-01"}
ROWS = [
    "INSERT INTO region (id, name, kind, created_at, updated_at) VALUES (1, '甲市', 'city', :c, :u)",
    "INSERT INTO department (id, region_id, name, kind, created_at, updated_at) "
    "VALUES (1, 1, '甲市公安局', 'government', :c, :u)",
    "INSERT INTO user (id, username, display_name, password_hash, role, region_id, department_id, active, "
    "created_at, updated_at) VALUES (1, 'u', 'u', 'x', 'department', 1, 1, 1, :c, :u)",
    "INSERT INTO plan (id, region_id, code, title, period_start, period_end, targets, created_at, "
    "updated_at) "
    "VALUES (1, 1, 'p', 'p', '2020-01-01', '2022-12-31', '[]', :c, :u)",
    "INSERT INTO plan_node (id, plan_id, key, kind, title, text, position, created_at, updated_at) "
    "VALUES (1, 1, 'n', 'program', 'n', '', 0, :c, :u)",
    "INSERT INTO milestone (id, plan_id, node_id, key, title, text, due_date, baseline_due_date, "
    "lead_department_id, status, percent, version, targets, created_at, updated_at) "
    "VALUES (1, 1, 1, 'm', 'm', '', '2021-03-31', '2021-03-31', 1, 'not_started', 0, 1, '[]', :c, :u)",
    "INSERT INTO notice (id, milestone_id, department_id, issued_by_id, text, reply_due, issued_at, "
    "reply_text, replied_by_id, replied_at) VALUES (1, 1, 1, 1, '请说明', '2021-03-20', :c, '已办', 1, :u)",
    "INSERT INTO notice (id, milestone_id, department_id, issued_by_id, text, reply_due, issued_at) "
    "VALUES (2, 1, 1, 1, '请说明', '2021-03-20', :c)",
]


def test_existing_notices_get_their_state_and_first_round(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision="0007")
        with engine.begin() as conn:
            for row in ROWS:
                conn.execute(text(row), STAMPS)
        upgrade()
        with engine.connect() as conn:
            got = conn.execute(text("SELECT id, state, version FROM notice ORDER BY id")).all()
            query = "SELECT notice_id, number, reply_text, outcome FROM notice_round"
            rounds = conn.execute(text(query)).all()
        assert got == [(1, "answered", 1), (2, "issued", 1)]
        assert rounds == [(1, 1, "已办", None)]
        downgrade(revision="0007")
        with engine.connect() as conn:
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(notice)"))]
        assert "state" not in columns and "reply_text" in columns
    engine.dispose()
