"""No page's number of SQL queries may grow with the number of areas, plans, milestones,
communities or users: each page is requested on a small database and again after it grew,
and the two counts must be equal. Two kinds of growth: more areas (each with its region,
departments, users, plan, milestones, reports, values, 督办, reminders, a community), which
catches a page reading something once per region or plan; and more rows inside the world's
own region A and plan-a (tests.factories.grow_region: milestones under new nodes, their
reports, dependencies, co-departments, 督办 and reminders, departments and users, communities
with assessed items under the street, notifications), which catches a page reading something
once per milestone, community or user it lists.

No page of the list needs an exception: those whose output is per row either page it or read
the rows in a fixed number of batched statements.
"""

from __future__ import annotations

import os
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app import section_cache
from app.extensions import db
from app.models import Region
from app.plans import graph_data, tree_data
from tests.conftest import login
from tests.factories import add_areas, build_matrix_world, grow_region

# (user, url); {ids} are filled from the world.
PAGES = [
    ("police", "/my"),
    ("police", "/notifications"),
    ("police", "/milestones/{m_police}"),
    ("police", "/plans/plan-a/indicators"),
    ("police", "/indicators/{indicator_a}"),
    ("province", "/plans"),
    ("province", "/province"),
    ("province", "/province.xlsx"),
    ("province", "/dashboard"),
    ("leader", "/plans"),
    ("leader", "/dashboard"),
    ("leader", "/plans/plan-a/dashboard"),
    ("leader", "/plans/plan-a/dashboard/list"),
    ("leader", "/plans/plan-a/dashboard/list?colour=red"),
    ("leader", "/plans/plan-a/stars"),
    ("leader", "/plans/plan-a/assessment"),
    ("leader", "/plans/plan-a/bulletins"),
    ("leader", "/notices"),
    ("office", "/review"),
    ("office", "/plans/plan-a"),
    ("office", "/plans/plan-a/standard-values"),
    ("office", "/plans/plan-a/indicators"),
    ("office", "/packs"),
    ("office", "/plans/plan-a/gantt"),
    ("office", "/plans/plan-a/gantt.json"),
    ("office", "/plans/plan-a/graph.json"),
    ("office", "/plans/plan-a/reminder-policy"),
    ("admin", "/admin/users"),
    ("admin", "/admin/users?q=甲市"),
    ("admin", "/admin/users?q=乙县"),
    ("admin", "/admin/reminders"),
    ("admin", "/admin/reminders?plan=甲市&department=公安"),
    ("admin", "/admin/reminders?status=failed"),
    ("admin", "/admin/outbox"),
    ("admin", "/admin/departments"),
    ("admin", "/admin/regions"),
    ("office", "/communities"),
    ("office", "/communities.xlsx"),
    ("office", "/communities/{community_a}"),
    ("street", "/communities"),
    ("street", "/communities/{community_a}"),
    ("province", "/communities"),
    ("office", "/plans/plan-a/export.xlsx"),
    ("office", "/plans/plan-a/graph"),
    ("office", "/plans/plan-a/nodes/{node_a}/children"),
    ("office", "/plans/plan-a/indicator-charts"),
    ("office", "/plans/plan-a/indicator-charts.json"),
    ("office", "/milestones/{m_police}/edit"),
    ("office", "/milestones/{m_police}/predecessor-options"),
    ("office", "/review/reports/{report_a}"),
    ("office", "/communities/{community_a}/edit"),
    ("office", "/communities/import-template.xlsx"),
    ("police", "/reports/{draft_a}/edit"),
    ("police", "/milestones/{m_far}/report"),
    ("admin", "/admin/users/{police}/notifications"),
    ("admin", "/admin/users/{police}"),
    ("admin", "/admin/users/new"),
    ("admin", "/admin/holidays"),
    # The open API, with a token of the user (its session never authenticates it).
    ("police", "/api/v1/milestones"),
    ("police", "/api/v1/milestones?mine=true&overdue=true"),
    ("office", "/api/v1/plans/plan-a/nodes"),
    ("office", "/api/v1/notices"),
    ("admin", "/api/v1/reminders"),
    ("province", "/api/v1/plans"),
    ("police", "/api/v1/milestones/{m_police}"),
    ("police", "/api/v1/milestones/{m_police}/reports"),
    ("police", "/api/v1/indicators"),
    ("police", "/api/v1/indicators/{indicator_a}/values"),
    ("office", "/api/v1/plans/plan-a"),
    ("office", "/api/v1/plans/plan-a/scores"),
    ("office", "/api/v1/plans/plan-a/forecasts"),
]


# Pages whose fix lies in a file another change owns: (user, url) -> the fix. They may still
# grow (the test then xfails naming them); once they don't, remove them here.
OWNED_ELSEWHERE: dict = {}

# Pages whose HTML must not grow either (no list of every plan, department or user).
SAME_SIZE = [("admin", "/admin/reminders?status=failed"), ("admin", "/admin/users?q=乙县")]


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(app, world) -> dict[tuple[str, str], tuple[int, int, int, list[str]]]:
    """(user, path) -> (statements, bytes, status, the statements' SQL)."""
    out = {}
    clients = {}
    tokens = _tokens(app, {user for user, url in PAGES if url.startswith("/api/")})
    # Requests outside an app context: inside one, flask_login's user would stick in g.
    with app.app_context():
        engine = db.engine
    if True:
        for user, url in PAGES:
            client = clients.get(user)
            if client is None:
                client = clients[user] = app.test_client()
                login(client, user)
            path = url.format(**world.ids)
            # Cold: a page's per-process caches (plan tree, graph) are emptied first, so the
            # count is what a worker pays after the plan changed, whichever run comes first.
            graph_data._CACHE.clear()
            section_cache.clear()
            tree_data._CACHE.clear()
            headers = {"Authorization": f"Bearer {tokens[user]}"} if path.startswith("/api/") else {}
            with counting(engine) as statements:
                response = client.get(path, headers=headers)
            out[(user, path)] = (len(statements), len(response.data), response.status_code, statements)
    bad = [f"{user} {path}: {r[2]}" for (user, path), r in out.items() if r[2] not in (200, 302)]
    assert not bad, "pages did not answer 200 (or 302):\n" + "\n".join(bad)
    return out


def _tokens(app, usernames) -> dict[str, str]:
    """An API token per user (made once per measurement; the count is of the request only)."""
    from app.api import tokens
    from app.models import User

    with app.app_context():
        out = {}
        for name in usernames:
            user = db.session.scalar(select(User).where(User.username == name))
            _row, secret = tokens.create(user, "计数", 1)
            out[name] = secret
        db.session.commit()
        return out


def _areas(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Region))


def _repeated(small: list[str], large: list[str]) -> list[str]:
    """The statements the larger database ran more often: the ones that repeat per row."""
    more = Counter(large) - Counter(small)
    return [f"    {n}× {' '.join(sql.split())[:240]}" for sql, n in more.most_common(3)]


def _compare(small, large, what: str, sizes: list | None = None) -> None:
    """Fail naming every page whose count (or, for SAME_SIZE, output) grew; xfail when only
    pages owned elsewhere grew."""
    if os.environ.get("QUERY_COUNT_REPORT"):  # a table for the record: page, queries small / large
        with open(os.environ["QUERY_COUNT_REPORT"], "a", encoding="utf-8") as out:
            out.write(f"# {what}\n")
            for key, (q_small, size_small, _, _) in small.items():
                q_large, size_large, _, _ = large[key]
                out.write(f"{key[0]:9} {key[1]:45} {q_small:4} {q_large:4}  {size_small:7} {size_large:7}\n")
    grown, elsewhere = [], []
    for key, (q_small, size_small, _, sql_small) in small.items():
        q_large, size_large, _, sql_large = large[key]
        if q_large != q_small:
            line = f"{key[1]} (as {key[0]}): {q_small} queries with fewer {what}, {q_large} with more"
            if key in OWNED_ELSEWHERE:
                elsewhere.append(f"{line} — fix: {OWNED_ELSEWHERE[key]}")
            else:
                grown.append("\n".join([line, *_repeated(sql_small, sql_large)]))
        elif key in OWNED_ELSEWHERE:
            grown.append(f"{key[1]} (as {key[0]}) no longer grows: remove it from OWNED_ELSEWHERE")
        if key in (sizes or []) and size_large != size_small:
            sizes_ = f"{size_small} bytes with fewer {what}, {size_large} with more"
            grown.append(f"{key[1]} (as {key[0]}): {sizes_}")
    assert not grown, f"pages grow with the {what}:\n" + "\n".join(grown)
    if elsewhere:
        pytest.xfail("grows, fixed in a file owned elsewhere:\n" + "\n".join(elsewhere))


def test_no_page_grows_with_areas(app):
    with app.app_context():
        world = build_matrix_world()
        add_areas(2)
    n_small = _areas(app)
    small = measure(app, world)
    with app.app_context():
        add_areas(4, start=2)
    n_large = _areas(app)
    large = measure(app, world)
    _compare(small, large, f"areas ({n_small} → {n_large})", SAME_SIZE)


def test_no_page_grows_within_the_region(app):
    """The same pages while the world's own region and plan grow: its milestones (with
    reports, evidence, dependencies, co-departments, 督办), departments and users, its
    communities under the street (with assessed items) and the police user's notifications.
    add_areas cannot catch a query per community of the region or per milestone of the plan."""
    with app.app_context():
        world = build_matrix_world()
        grow_region(world, 2)
    small = measure(app, world)
    with app.app_context():
        grow_region(world, 5, start=2)
    large = measure(app, world)
    _compare(small, large, "rows in region A and plan-a", None)
