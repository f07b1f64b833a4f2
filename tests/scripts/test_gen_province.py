"""scripts/gen_province.py: copying the regions that own a plan, area by area (PostgreSQL only:
the copy is PostgreSQL SQL)."""

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Department, Milestone, Plan, PlanNode, Region, User
from tests.conftest import login
from tests.factories import build_world

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_province.py"


def _gen():
    spec = importlib.util.spec_from_file_location("gen_province", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pg(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0] not in ("postgresql", "postgresql+psycopg"):
        pytest.skip("gen_province copies with PostgreSQL SQL")


def test_two_areas_copy_both_templates_with_working_log_ins(app, client, pg):
    gen = _gen()
    with app.app_context():
        build_world()
        db.session.commit()
        office = db.session.scalar(select(User).where(User.username == "office"))
        home = office.region_id
        db.session.add(
            AuditEvent(action="test", object_type="User", object_id=office.id, region_id=home, summary="测试")
        )
        db.session.commit()
        before = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (Region, Plan, User)}
        class_tables = {m.class_.__name__: m.local_table.name for m in db.Model.registry.mappers}
        with db.engine.begin() as conn:
            gen.copy_areas(conn, db.metadata, class_tables, 2, gen.Timer())
            gen.reset_sequences(conn, db.metadata)
        assert db.session.scalar(select(func.count()).select_from(Region)) == before[Region] + 2
        assert db.session.scalar(select(func.count()).select_from(Plan)) == before[Plan] + 2
        names = set(db.session.scalars(select(Region.name)))
        assert {"虚拟市0001", "虚拟区0002"} <= names
        plan = db.session.scalar(select(Plan).where(Plan.code == "a0001-a"))  # plan-a
        region = db.session.get(Region, plan.region_id)
        assert region.name == "虚拟市0001"
        # Everything of the copy stays inside its region.
        ms = db.session.scalars(select(Milestone).where(Milestone.plan_id == plan.id)).all()
        assert ms and all(db.session.get(Department, m.lead_department_id).region_id == region.id for m in ms)
        nodes = db.session.scalars(select(PlanNode).where(PlanNode.plan_id == plan.id)).all()
        parents = [db.session.get(PlanNode, n.parent_id) for n in nodes if n.parent_id]
        assert all(p.plan_id == plan.id for p in parents)
        copied = db.session.scalar(select(User).where(User.username == "a0001-office"))
        assert copied.region_id == region.id and copied.password_hash == office.password_hash
        assert copied.email is None or copied.email.startswith("a0001-office@")
        # Users of no region (admin, province) are not copied.
        assert db.session.scalar(select(User.id).where(User.username == "a0001-admin")) is None
        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.region_id == region.id))
        assert audit.object_id == copied.id
        # Sequences moved past the copies: a new row gets a fresh id.
        milestone_id = ms[0].id
        db.session.add(Region(name="新增区", kind="county"))
        db.session.commit()
    login(client, "a0001-police")
    assert client.get("/my").status_code == 200
    assert client.get(f"/milestones/{milestone_id}").status_code in (200, 403)
