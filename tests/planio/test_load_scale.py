"""The public plan loader at scale: the statements it sends do not grow with the number of
milestones (a plan of 6,000 milestones took 80 s at one flush and three queries per row),
and a batched load writes exactly what the file says."""

import importlib.util
from pathlib import Path

from sqlalchemy import event, func, select

from app.extensions import db
from app.models import AuditEvent, Dependency, Milestone, Plan
from app.models.indicator import milestone_indicator
from app.models.plan import milestone_co_department
from app.planio.loader import load_files

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_big_plan.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_big_plan", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_counting(path) -> int:
    seen = []

    def count(_conn, _cursor, _statement, _params, _context, executemany):
        # Batched INSERTs ("insertmanyvalues") are one statement per batch on PostgreSQL and
        # one per row on SQLite, where RETURNING cannot keep the order: count the rest.
        if not executemany:
            seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        report = load_files([path])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert report.ok, [str(e) for e in report.errors[:5]]
    return len(seen)


def _statements_for(tmp_path, n: int, code: str) -> tuple[int, dict]:
    gen = _generator()
    data = gen.build(n, code=code)
    path = tmp_path / f"{code}.yaml"
    gen.write(data, path)
    statements = _load_counting(path)
    return statements, data


def _co_and_indicator_links(plan_id: int) -> tuple[int, int]:
    mids = select(Milestone.id).where(Milestone.plan_id == plan_id)
    co = db.session.scalar(
        select(func.count())
        .select_from(milestone_co_department)
        .where(milestone_co_department.c.milestone_id.in_(mids))
    )
    ind = db.session.scalar(
        select(func.count())
        .select_from(milestone_indicator)
        .where(milestone_indicator.c.milestone_id.in_(mids))
    )
    return co, ind


def _expected_links(data: dict) -> tuple[int, int, int]:
    milestones, co, ind = 0, 0, 0

    def walk(nodes):
        nonlocal milestones, co, ind
        for node in nodes or []:
            for m in node.get("milestones") or []:
                milestones += 1
                co += len(m.get("co") or [])
                ind += len(m.get("indicators") or [])
            walk(node.get("children"))

    walk(data["nodes"])
    return milestones, co, ind


def test_statements_do_not_grow_with_the_plan(ctx, tmp_path):
    small, _ = _statements_for(tmp_path, 60, "scale-small")
    large, data = _statements_for(tmp_path, 480, "scale-large")
    assert large <= small + 2, f"60 milestones: {small} statements, 480: {large}"

    plan = db.session.scalar(select(Plan).where(Plan.code == "scale-large"))
    milestones, co, ind = _expected_links(data)
    assert db.session.scalar(select(func.count()).where(Milestone.plan_id == plan.id)) == milestones == 480
    assert _co_and_indicator_links(plan.id) == (co, ind)
    deps = db.session.scalar(select(func.count()).where(Dependency.plan_id == plan.id))
    assert deps == len(data["dependencies"])
    created = db.session.scalar(
        select(func.count()).where(
            AuditEvent.action == "plan_load.create", AuditEvent.object_type == "Milestone"
        )
    )
    assert created == 60 + 480


def test_reloading_a_big_plan_writes_nothing_and_an_edit_only_its_rows(ctx, tmp_path):
    gen = _generator()
    data = gen.build(300, code="scale-edit")
    path = tmp_path / "edit.yaml"
    gen.write(data, path)
    assert load_files([path]).ok
    before = db.session.scalar(select(func.max(AuditEvent.id)))
    again = _load_counting(path)
    assert db.session.scalar(select(func.max(AuditEvent.id))) == before
    assert again < 40, f"an unchanged reload sent {again} statements"

    # Reverse one milestone's co-departments: only that milestone's order changes.
    first = next(
        m for node in _walk(data["nodes"]) for m in node.get("milestones") or [] if len(m.get("co") or []) > 1
    )
    first["co"] = list(reversed(first["co"]))
    gen.write(data, path)
    assert load_files([path]).ok
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    updates = [e for e in events if e.action == "plan_load.update"]
    assert len(updates) == 1 and updates[0].object_type == "Milestone"
    assert updates[0].after["co_departments"] == first["co"]
    m = db.session.scalar(select(Milestone).where(Milestone.key == first["key"]))
    assert [d.name for d in m.co_departments] == first["co"]


def _walk(nodes):
    for node in nodes or []:
        yield node
        yield from _walk(node.get("children"))
