"""Migration 0005 on a database that already holds direct entries of the standard."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from app import create_app

STAMPS = {"c": "2021-01-01", "u": "2021-01-01"}
REGION = "INSERT INTO region (id, name, kind, created_at, updated_at) VALUES (1, '甲市', 'city', :c, :u)"
PLAN = (
    "INSERT INTO plan (id, region_id, code, title, period_start, period_end, targets, created_at, "
    "updated_at) VALUES (1, 1, 'p', 'p', '2020-01-01', '2022-12-31', '[]', :c, :u)"
)
INDICATOR = (
    "INSERT INTO indicator (id, plan_id, key, table_name, name, definition, unit, star, standard_indicator, "
    "position, created_at, updated_at) "
    "VALUES (:id, 1, :key, :table, :name, '', :unit, false, :number, 0, :c, :u)"
)


def test_direct_entries_get_their_quantity_and_unit(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision="0004")
        with engine.begin() as conn:
            conn.execute(text(REGION), STAMPS)
            conn.execute(text(PLAN), STAMPS)
            for id_, key, table, name, unit, number in (
                (1, "std-33", "标准直填", "企业上云率", "%", "33"),
                (2, "std-40", "标准直填", "制度机制", None, "40"),
                (3, "wh-i22", "表三", "企业上云规模", "家", "33"),  # a plan indicator: the loader decides
            ):
                row = dict(id=id_, key=key, table=table, name=name, unit=unit, number=number, **STAMPS)
                conn.execute(text(INDICATOR), row)
        upgrade()
        with engine.connect() as conn:
            query = "SELECT key, standard_quantity, standard_unit, parts FROM indicator ORDER BY id"
            got = conn.execute(text(query)).all()
        assert got == [
            ("std-33", "企业上云率", "%", None),
            ("std-40", "制度机制", None, None),
            ("wh-i22", None, None, None),
        ]
        downgrade(revision="0004")
        with engine.connect() as conn:
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(indicator)"))]
        assert "standard_quantity" not in columns and "standard_indicator" in columns
    engine.dispose()
