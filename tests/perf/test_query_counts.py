"""No page's number of SQL queries may grow with the number of areas, plans, milestones (in
other plans) or users: each page is requested on a small database and again after more areas
(each with its region, departments, users, plan, milestones, reports, values, 督办, reminders)
were added, and the two counts must be equal.

Growth of milestones within the same plan on the plan tree, milestone page, graph and gantt
is another matter (those pages load lazily); here only other areas grow.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
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
    ("admin", "/admin/reminders"),
    ("admin", "/admin/reminders?plan=甲市&department=公安"),
    ("admin", "/admin/outbox"),
    ("admin", "/admin/departments"),
    ("admin", "/admin/regions"),
]


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
            with counting(engine) as statements:
                response = client.get(path)
            out[(user, path)] = (len(statements), statements, response.status_code)
    bad = [
        f"{user} {path}: {status}" for (user, path), (_, _, status) in out.items() if status not in (200, 302)
    ]
    assert not bad, "pages did not answer 200 (or 302):\n" + "\n".join(bad)
    return out


def test_no_page_grows_with_areas(app):
    with app.app_context():
        world = build_matrix_world()
        add_areas(2)
    small = measure(app, world)
    with app.app_context():
        add_areas(4, start=2)
    large = measure(app, world)
    grown = []
    for key, (n_small, _, _) in small.items():
        n_large, _, _ = large[key]
        if n_large != n_small:
            grown.append(f"{key[1]} (as {key[0]}): {n_small} queries with 4 areas, {n_large} with 8")
    assert not grown, "query count grows with the data:\n" + "\n".join(grown)
