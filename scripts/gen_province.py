"""A synthetic province for the speed benchmarks (issue 12), bulk-loaded into PostgreSQL.

    python scripts/gen_province.py --areas 150
    python scripts/gen_province.py --areas 1000 --database-url postgresql://postgres@127.0.0.1:5432/bench
    python scripts/gen_province.py --areas 150 --big-plan-milestones 6000

Steps: empty the database (drop and recreate schema `public`), `flask db upgrade`,
`flask demo load` (both real plans with their demo progress as of 2021-03-15), then
copy the rows of the two demo regions (威海市 with weihai-1313, 章丘区 with
zhangqiu-3n) area by area with set-based SQL: one INSERT … SELECT per table and
template over all its areas, ids shifted by a per-table offset (area n gets
id + n × max(id)). Tables are walked in dependency order from the SQLAlchemy
metadata, so columns and tables added later are copied without changing this
script. A row belongs to a template if it is the template's region or refers
(by foreign key, or by a plain `<table>_id` / `object_type`+`object_id` column as
in audit_event) to a row that does; references to rows outside the templates
(the province-wide users, the parent region 济南市) are kept as they are.

Areas, numbered from 1: odd areas copy 威海 (city), even areas copy 章丘 (county).
  region      虚拟市0001, 虚拟区0002, …
  plan code   a0001-1313, a0002-3n, …
  users       the template's demo accounts with their prefix replaced:
              a0001-office, a0001-police, a0001-industry, a0001-housing,
              a0001-education, a0001-leader (威海 copies);
              a0002-office, a0002-industry, a0002-approval, a0002-housing,
              a0002-police, a0002-leader (章丘 copies);
              e-mail <username>@demo.starpath.local; password demo-pass-2021
              (the demo's hash is copied, never recomputed).
The demo's own plans and accounts (wh-*, zq-*, province, admin) stay as they are.

--big-plan-milestones M also runs scripts/gen_big_plan.py --milestones M --load
(a YAML plan loaded through the public loader, plan code `big-plan`) and adds
accounts for its region: big-office (统筹部门), big-dept (the department leading
the most milestones) and big-leader (领导小组), same password.

Not rewritten in the copies: ids inside JSON documents (stored forecast runs,
bulletins, audit before/after) and links in notifications still name the template's rows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"
DEMO_AS_OF = "2021-03-15"
GLOBAL_TABLES = {"alembic_version"}  # never copied (no region behind them anyway)


def driver(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Timer:
    def __init__(self) -> None:
        self.phases: list[tuple[str, float]] = []
        self.start = time.perf_counter()

    def phase(self, name: str, seconds: float) -> None:
        self.phases.append((name, seconds))
        print(f"  {name:<40} {seconds:8.2f} s", flush=True)


def flask(args: list[str], env: dict) -> None:
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")


def reset_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(driver(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# --- the copy -------------------------------------------------------------------------


def references(table, tables: dict, class_tables: dict) -> list[tuple[str, object]]:
    """(column, target) pairs: target is a table name, or for a polymorphic object_id
    the column name of its type (`object_type`)."""
    out = []
    for col in table.columns:
        fks = list(col.foreign_keys)
        if fks:
            out.append((col.name, fks[0].column.table.name))
        elif col.name.endswith("_id") and col.name[:-3] in tables and col.name[:-3] != table.name:
            out.append((col.name, col.name[:-3]))  # e.g. audit_event.milestone_id (no FK on purpose)
        elif col.name == "object_id" and "object_type" in table.columns:
            out.append((col.name, ("object_type", class_tables)))
    return out


def single_id(table) -> bool:
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and pk[0].name == "id"


def _ids_literal(ids) -> str:
    return "ARRAY[" + ",".join(str(i) for i in sorted(ids)) + "]::int[]" if ids else "ARRAY[]::int[]"


def plan_copy(conn, metadata, class_tables: dict):
    """Per table: the template rows (ids, or a predicate for tables without an id) and the
    per-table id spans. Returns (templates, members, spans, shared)."""
    from sqlalchemy import text

    templates = conn.execute(
        text(
            "SELECT r.id, r.name, r.kind, min(p.id) FROM plan p JOIN region r ON r.id = p.region_id "
            "GROUP BY r.id, r.name, r.kind ORDER BY min(p.id)"
        )
    ).all()
    tables = {t.name: t for t in metadata.sorted_tables}
    members: list[dict] = [{} for _ in templates]  # template -> table -> set of ids (tables with id)
    spans: dict[str, int] = {}
    for table in metadata.sorted_tables:
        if not single_id(table):
            continue
        spans[table.name] = conn.scalar(text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"'))
    for k, (region_id, *_rest) in enumerate(templates):
        for table in metadata.sorted_tables:
            if table.name in GLOBAL_TABLES or not single_id(table):
                continue
            if table.name == "region":
                members[k]["region"] = {region_id}
                continue
            pred = predicate(table, tables, class_tables, members[k])
            if pred is None:
                members[k][table.name] = set()
                continue
            members[k][table.name] = set(conn.scalars(text(f'SELECT id FROM "{table.name}" t WHERE {pred}')))
    # Rows of a table that belong to no template: references to them are kept as they are.
    shared = {}
    for name, span in spans.items():
        if name in GLOBAL_TABLES:
            continue
        owned = set().union(*(m.get(name, set()) for m in members))
        shared[name] = set(conn.scalars(text(f'SELECT id FROM "{name}"'))) - owned if span else set()
    return templates, members, spans, shared


def predicate(table, tables, class_tables, member: dict) -> str | None:
    parts = []
    for col, target in references(table, tables, class_tables):
        if isinstance(target, tuple):
            type_col, mapping = target
            for cls, tname in mapping.items():
                ids = member.get(tname)
                if ids:
                    parts.append(f'(t."{type_col}" = \'{cls}\' AND t."{col}" = ANY({_ids_literal(ids)}))')
        else:
            ids = member.get(target)
            if ids:
                parts.append(f't."{col}" = ANY({_ids_literal(ids)})')
    return " OR ".join(parts) if parts else None


def shifted(col: str, target: str, spans: dict, shared: dict) -> str:
    """A reference to a row of `target` in area a.n: shifted unless it is a shared row."""
    span = spans.get(target, 0)
    expr = f't."{col}" + a.n * {span}'
    keep = shared.get(target)
    if keep:
        expr = f'CASE WHEN t."{col}" = ANY({_ids_literal(keep)}) THEN t."{col}" ELSE {expr} END'
    return expr


def renamed(expr: str, prefix: str) -> str:
    """`wh-office` -> `a0007-office`; a name without a prefix gets one: `office` -> `a0007-office`."""
    new = f"CASE WHEN position('-' in {expr}) > 0 THEN regexp_replace({expr}, '^[^-]+', {prefix})"
    return f"{new} ELSE {prefix} || '-' || {expr} END"


def column_expr(table, col, refs: dict, spans, shared, template) -> str:
    """The SELECT expression that makes the area's value of one column."""
    name = col.name
    prefix = "'a' || lpad(a.n::text, 4, '0')"
    region_name = "CASE WHEN t.kind = 'county' THEN '虚拟区' ELSE '虚拟市' END || lpad(a.n::text, 4, '0')"
    new_region = ("'虚拟区'" if template[2] == "county" else "'虚拟市'") + " || lpad(a.n::text, 4, '0')"
    tpl_name = template[1].replace("'", "''")
    special = {
        ("region", "name"): region_name,
        ("plan", "code"): renamed("t.code", prefix),
        ("plan", "title"): f"replace(t.title, '{tpl_name}', {new_region})",
        ("user", "username"): renamed("t.username", prefix),
        ("user", "email"): f"{renamed('t.username', prefix)} || '@' || split_part(t.email, '@', 2)",
        ("user", "display_name"): f"replace(t.display_name, '{tpl_name}', {new_region})",
    }
    if (table.name, name) in special:
        return special[(table.name, name)]
    if name == "id" and single_id(table):
        return f"t.id + a.n * {spans[table.name]}"
    if name in refs:
        target = refs[name]
        if isinstance(target, tuple):
            type_col, mapping = target
            whens = " ".join(
                f"WHEN '{cls}' THEN {shifted(name, tname, spans, shared)}"
                for cls, tname in mapping.items()
                if spans.get(tname)
            )
            return f'CASE t."{type_col}" {whens} ELSE t."{name}" END' if whens else f't."{name}"'
        return shifted(name, target, spans, shared)
    if col.unique and hasattr(col.type, "length"):  # any other unique text: a per-area suffix
        length = col.type.length or 64
        suffix = "'~' || lpad(a.n::text, 5, '0')"
        return f'CASE WHEN t."{name}" IS NULL THEN NULL ELSE left(t."{name}", {length - 6}) || {suffix} END'
    return f't."{name}"'


def copy_areas(conn, metadata, class_tables, areas: int, timer: Timer) -> dict[str, int]:
    from sqlalchemy import text

    t0 = time.perf_counter()
    templates, members, spans, shared = plan_copy(conn, metadata, class_tables)
    timer.phase("find template rows", time.perf_counter() - t0)
    tables = {t.name: t for t in metadata.sorted_tables}
    counts: dict[str, int] = {}
    for table in metadata.sorted_tables:
        if table.name in GLOBAL_TABLES:
            continue
        t0 = time.perf_counter()
        refs = dict(references(table, tables, class_tables))
        cols = list(table.columns)
        inserted = 0
        for k, template in enumerate(templates):
            if single_id(table):
                ids = members[k].get(table.name)
                if not ids:
                    continue
                where = f"t.id = ANY({_ids_literal(ids)})"
            else:
                where = predicate(table, tables, class_tables, members[k])
                if where is None:
                    continue
            exprs = [column_expr(table, c, refs, spans, shared, template) for c in cols]
            names = ", ".join(f'"{c.name}"' for c in cols)
            sql = (
                f'INSERT INTO "{table.name}" ({names}) '
                f'SELECT {", ".join(exprs)} FROM "{table.name}" t '
                f"CROSS JOIN generate_series({k + 1}, {areas}, {len(templates)}) AS a(n) WHERE {where}"
            )
            inserted += conn.execute(text(sql)).rowcount
        counts[table.name] = inserted
        if inserted:
            timer.phase(f"copy {table.name} ({inserted:,} rows)", time.perf_counter() - t0)
    return counts


def reset_sequences(conn, metadata) -> None:
    from sqlalchemy import text

    for table in metadata.sorted_tables:
        if not single_id(table):
            continue
        seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f'"{table.name}"'})
        if seq:
            top = f'SELECT coalesce(max(id), 0) + 1 FROM "{table.name}"'
            conn.execute(text(f"SELECT setval('{seq}', ({top}), false)"))


def big_plan(milestones: int, env: dict, script: Path) -> None:
    if not script.exists():
        print(
            f"  {script.relative_to(ROOT) if script.is_relative_to(ROOT) else script} is not there yet: "
            "no big plan (pass --big-plan-script PATH to use another copy)",
            flush=True,
        )
        return
    out = ROOT / "instance" / "big-plan.yaml"
    cmd = [sys.executable, str(script), "--milestones", str(milestones), "--out", str(out), "--load"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")


def big_plan_accounts() -> list[str]:
    """Log-ins for the big plan's region, with the demo's password hash."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Milestone, Plan, User

    plan = db.session.scalar(select(Plan).where(Plan.code == "big-plan"))
    if plan is None:
        return []
    template = db.session.scalar(select(User).where(User.username == "wh-office"))
    lead = db.session.execute(
        select(Milestone.lead_department_id, func.count())
        .where(Milestone.plan_id == plan.id)
        .group_by(Milestone.lead_department_id)
        .order_by(func.count().desc(), Milestone.lead_department_id)
        .limit(1)
    ).first()
    made = []
    for username, name, role, dept in [
        ("big-office", "大计划统筹部门", "plan_office", lead[0]),
        ("big-dept", "大计划责任部门联络员", "department", lead[0]),
        ("big-leader", "大计划领导小组", "leading_group", None),
    ]:
        if db.session.scalar(select(User.id).where(User.username == username)):
            continue
        db.session.add(
            User(
                username=username,
                display_name=name,
                email=f"{username}@demo.starpath.local",
                password_hash=template.password_hash,
                role=role,
                region_id=plan.region_id,
                department_id=dept,
            )
        )
        made.append(username)
    db.session.flush()
    for node in plan.roots:
        node.leader_id = db.session.scalar(select(User.id).where(User.username == "big-leader"))
    db.session.commit()
    return made


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areas", type=int, required=True, help="number of copied areas")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    ap.add_argument("--big-plan-milestones", type=int, default=0, help="also load one plan this big")
    ap.add_argument("--big-plan-script", type=Path, default=ROOT / "scripts" / "gen_big_plan.py")
    args = ap.parse_args(argv)
    url = args.database_url
    if not url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        raise SystemExit("gen_province needs PostgreSQL (--database-url postgresql://…)")
    name = url.rsplit("/", 1)[1].split("?")[0]
    if name.startswith("test") or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to empty database {name!r}")

    env = dict(os.environ, DATABASE_URL=url, STARPATH_AS_OF=os.environ.get("STARPATH_AS_OF", DEMO_AS_OF))
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    env.pop("STARPATH_ENV", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "STARPATH_AS_OF", "REDIS_URL")})
    timer = Timer()
    print(f"gen_province: {args.areas} areas into {name}", flush=True)

    t0 = time.perf_counter()
    reset_schema(url)
    timer.phase("empty the database", time.perf_counter() - t0)
    t0 = time.perf_counter()
    flask(["db", "upgrade"], env)
    timer.phase("flask db upgrade", time.perf_counter() - t0)
    t0 = time.perf_counter()
    flask(["demo", "load"], env)
    timer.phase("flask demo load", time.perf_counter() - t0)

    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        class_tables = {
            m.class_.__name__: m.local_table.name
            for m in db.Model.registry.mappers
            if single_id(m.local_table) and m.local_table.name not in GLOBAL_TABLES
        }
        t_copy = time.perf_counter()
        with db.engine.begin() as conn:
            counts = copy_areas(conn, db.metadata, class_tables, args.areas, timer)
            t0 = time.perf_counter()
            reset_sequences(conn, db.metadata)
            timer.phase("reset sequences", time.perf_counter() - t0)
        timer.phase("copy (total)", time.perf_counter() - t_copy)
        if args.big_plan_milestones:
            t0 = time.perf_counter()
            big_plan(args.big_plan_milestones, env, args.big_plan_script)
            made = big_plan_accounts()
            timer.phase(f"big plan ({', '.join(made) or 'no new accounts'})", time.perf_counter() - t0)
        t0 = time.perf_counter()
        # VACUUM too, as autovacuum would soon: a freshly bulk-loaded table has no visibility
        # map, so the first reads of every page cost more than they will in service.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        timer.phase("VACUUM ANALYZE", time.perf_counter() - t0)
        with db.engine.connect() as conn:
            regions = conn.scalar(text("SELECT count(*) FROM region"))
            plans = conn.scalar(text("SELECT count(*) FROM plan"))
            milestones = conn.scalar(text("SELECT count(*) FROM milestone"))
            users = conn.scalar(text('SELECT count(*) FROM "user"'))
    total = time.perf_counter() - timer.start
    print(
        f"total {total:.1f} s: {sum(counts.values()):,} rows copied; "
        f"{regions:,} regions, {plans:,} plans, {milestones:,} milestones, {users:,} users",
        flush=True,
    )
    print(
        "log-ins: a0001-office / a0001-police / a0001-leader … (odd: 威海 copy), "
        "a0002-office / a0002-approval / a0002-leader … (even: 章丘 copy); password demo-pass-2021"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
