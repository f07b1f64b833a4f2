"""Shared helpers of the plan loader tests: the real files, edited copies, row snapshots."""

from pathlib import Path

import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from app.planio.reader import read_plan

ROOT = Path(__file__).resolve().parents[2]
WEIHAI = ROOT / "plans" / "weihai-1313.yaml"
ZHANGQIU = ROOT / "plans" / "zhangqiu-3n.yaml"


def read(path) -> dict:
    data, errors = read_plan(path)
    assert not errors, errors
    return data


def write_copy(data: dict, path: Path) -> Path:
    """Write plan data (dates kept as ISO text) as a plan file."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def walk_nodes(nodes):
    for node in nodes or []:
        yield node
        yield from walk_nodes(node.get("children"))


def milestones_of(data: dict) -> dict:
    return {m["key"]: m for n in walk_nodes(data["nodes"]) for m in n.get("milestones") or []}


def rows() -> dict:
    """Every row of every table, in primary-key order: the whole database."""
    out = {}
    for table in db.metadata.sorted_tables:
        query = select(table).order_by(*table.primary_key.columns)
        out[table.name] = [tuple(r) for r in db.session.execute(query)]
    return out


def counts() -> dict:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def max_audit_id() -> int:
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0
