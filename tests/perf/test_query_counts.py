"""No page's number of SQL queries may grow with the number of areas, plans, milestones (in
other plans) or users: each page is requested on a small database and again after more areas
(each with its region, departments, users, plan, milestones, reports, values, 督办, reminders)
were added, and the two counts must be equal.

Growth of milestones within the same plan on the plan tree, milestone page, graph and gantt
is another matter (those pages load lazily); here only other areas grow.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app import section_cache
from app.extensions import db
from app.models import Region
from app.plans import graph_data, tree_data
from tests.conftest import login
from tests.factories import add_areas, build_matrix_world

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
    # The open API, with a token of the user (its session never authenticates it).
    ("police", "/api/v1/milestones"),
    ("police", "/api/v1/milestones?mine=true&overdue=true"),
    ("office", "/api/v1/plans/plan-a/nodes"),
    ("office", "/api/v1/notices"),
    ("admin", "/api/v1/reminders"),
    ("province", "/api/v1/plans"),
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


def measure(app, world) -> dict[tuple[str, str], tuple[int, list[str]]]:
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
            out[(user, path)] = (len(statements), len(response.data), response.status_code)
    bad = [
        f"{user} {path}: {status}" for (user, path), (_, _, status) in out.items() if status not in (200, 302)
    ]
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
    if os.environ.get("QUERY_COUNT_REPORT"):  # a table for the record: page, queries small / large
        with open(os.environ["QUERY_COUNT_REPORT"], "w", encoding="utf-8") as out:
            for key, (q_small, size_small, _) in small.items():
                q_large, size_large, _ = large[key]
                out.write(f"{key[0]:9} {key[1]:45} {q_small:4} {q_large:4}  {size_small:7} {size_large:7}\n")
    grown, elsewhere = [], []
    for key, (q_small, size_small, _) in small.items():
        q_large, size_large, _ = large[key]
        if q_large != q_small:
            line = f"{key[1]} (as {key[0]}): {q_small} queries with {n_small} areas, {q_large} with {n_large}"
            if key in OWNED_ELSEWHERE:
                elsewhere.append(f"{line} — fix: {OWNED_ELSEWHERE[key]}")
            else:
                grown.append(line)
        elif key in OWNED_ELSEWHERE:
            grown.append(f"{key[1]} (as {key[0]}) no longer grows: remove it from OWNED_ELSEWHERE")
        if key in SAME_SIZE and size_large != size_small:
            sizes = f"{size_small} bytes with {n_small} areas, {size_large} with {n_large}"
            grown.append(f"{key[1]} (as {key[0]}): {sizes}")
    assert not grown, "pages grow with the data:\n" + "\n".join(grown)
    if elsewhere:
        pytest.xfail("grows, fixed in a file owned elsewhere:\n" + "\n".join(elsewhere))
