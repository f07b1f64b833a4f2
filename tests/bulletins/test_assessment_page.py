"""The 部门考评 page on a small plan: the figures per department, sorting by every
column, the month-by-month view from dated facts, links to the dashboard list, scope."""

import re
from datetime import date

import pytest

from app.extensions import db
from app.models import Extension, Milestone
from app.status.plan_status import plan_status
from tests.bulletins.scenario import build_scenario
from tests.conftest import login

URL = "/plans/plan-a/assessment"


@pytest.fixture
def sc(app):
    with app.app_context():
        ids = build_scenario()
        db.session.remove()
    return ids


def rows(html: str) -> dict[str, dict]:
    """{department id: {column: text}} of the table body (and 'total')."""
    out = {}
    for dept, body in re.findall(r'<tr data-department="(\d+)">(.*?)</tr>', html, re.S):
        out[dept] = {
            k: re.sub(r"<[^>]+>", " ", v).split()
            for k, v in re.findall(r'data-col="(\w+)">(.*?)</td>', body, re.S)
        }
        out[dept]["colours"] = dict(re.findall(r'data-colour="(\w+)">(\d+)<', body))
    return out


def order(html: str) -> list[int]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [int(x) for x in re.findall(r'<tr data-department="(\d+)">', body)]


def test_figures_per_department(app, client, sc):
    login(client, "office")
    html = client.get(URL).get_data(as_text=True)
    got = rows(html)
    police, transport = got[str(sc["police_dept"])], got[str(sc["transport_dept"])]
    # 警务云建设 (due 2-28, open) and 人口库对接 (due 3-1, done on the day, reported 2-27) are due.
    assert police["due"] == ["2"]
    assert police["on_time"] == ["50%（1/2）"]
    assert police["overdue"] == ["1"]
    assert police["reports"] == ["50%（1/2）"]  # the draft on 警务云建设 is not a report
    assert police["notices"] == ["50%（1/2）"]
    assert police["points"] == ["3"]  # 警务云建设 is red and would add 4 − 1 points
    # 站牌改造: due 2-15, finished 2-20 — late, so never on time.
    assert transport["due"] == ["1"] and transport["on_time"] == ["0%（0/1）"]
    assert transport["overdue"] == ["0"] and transport["notices"] == ["—"] and transport["points"] == ["0"]
    with app.app_context():
        from app.models import Plan

        status = plan_status(db.session.get(Plan, sc["plan_a"]))
        counts = status.by_department[sc["police_dept"]]
        db.session.remove()
    colours = {c: str(getattr(counts, c)) for c in ("red", "yellow", "blue", "done") if getattr(counts, c)}
    assert police["colours"] == colours and colours["red"] == "1"
    link = f'href="/plans/plan-a/dashboard/list?department={sc["police_dept"]}&amp;colour=red"'
    assert link in html
    assert "按期完成率：已到期的里程碑中" in html  # the definitions are on the page


def test_an_extension_counts_against_the_new_date_and_shows_the_original(app, client, sc):
    with app.app_context():
        m = db.session.get(Milestone, sc["m5"])  # due 2-15, finished 2-20
        db.session.add(
            Extension(
                milestone_id=m.id,
                old_due=date(2021, 2, 15),
                new_due=date(2021, 2, 28),
                reason="设备到货延迟",
                granted_by_id=sc["office"],
            )
        )
        m.due_date = date(2021, 2, 28)
        db.session.commit()
    login(client, "office")
    transport = rows(client.get(URL).get_data(as_text=True))[str(sc["transport_dept"])]
    assert transport["on_time"] == ["100%（1/1）", "按原期限", "0%（0/1）", "·", "延期", "1", "项"]


@pytest.mark.parametrize(
    "sort, first",
    [
        ("-overdue", "police_dept"),
        ("overdue", "transport_dept"),
        ("on_time", "transport_dept"),
        ("-on_time", "police_dept"),
        ("-points", "police_dept"),
        ("-red", "police_dept"),
        ("-due", "police_dept"),
        ("due", "transport_dept"),
        ("-reports", "police_dept"),
        ("reports", "transport_dept"),  # 0% before 50%
        ("notices", "police_dept"),  # transport has none: last either way
        ("-notices", "police_dept"),
        ("-blue", None),
        ("yellow", None),
        ("-done", None),
        ("department", None),
    ],
)
def test_sorting_by_every_column(client, sc, sort, first):
    login(client, "office")
    html = client.get(f"{URL}?sort={sort}").get_data(as_text=True)
    got = order(html)
    assert sorted(got) == sorted([sc["police_dept"], sc["transport_dept"]])
    if first:
        assert got[0] == sc[first], sort
    assert 'aria-sort="' in html


def test_department_sort_is_by_name_and_unknown_sorts_fall_back(client, sc):
    login(client, "office")
    by_name = order(client.get(f"{URL}?sort=department").get_data(as_text=True))
    assert by_name == [sc["police_dept"], sc["transport_dept"]] or by_name == [
        sc["transport_dept"],
        sc["police_dept"],
    ]
    assert order(client.get(f"{URL}?sort=-department").get_data(as_text=True)) == by_name[::-1]
    bogus = client.get(f"{URL}?sort=password;drop")
    assert bogus.status_code == 200
    assert order(bogus.get_data(as_text=True)) == order(
        client.get(f"{URL}?sort=-overdue").get_data(as_text=True)
    )


def test_monthly_view_uses_the_facts_of_each_month(app, client, sc):
    with (
        app.app_context()
    ):  # 警务云建设 (due 2-28) extended on 3-5 to 3-31: overdue at the end of February still
        m = db.session.get(Milestone, sc["m_late"])
        ext = Extension(
            milestone_id=m.id,
            old_due=date(2021, 2, 28),
            new_due=date(2021, 3, 31),
            reason="协调",
            granted_by_id=sc["office"],
        )
        from datetime import datetime

        ext.created_at = datetime(2021, 3, 5, 2)
        db.session.add(ext)
        m.due_date = date(2021, 3, 31)
        db.session.commit()
    login(client, "office")
    html = client.get(f"{URL}?view=monthly").get_data(as_text=True)
    feb = html.split('data-testid="month-2021-02"', 1)[1].split("</details>", 1)[0]
    got = rows(feb)
    assert got[str(sc["police_dept"])]["due"] == ["1"] and got[str(sc["police_dept"])]["overdue"] == ["1"]
    assert got[str(sc["transport_dept"])]["on_time"] == ["0%（0/1）"]
    mar = html.split('data-testid="month-2021-03"', 1)[1].split("</details>", 1)[0]
    police_mar = rows(mar)[str(sc["police_dept"])]
    # March so far: 人口库对接 due 3-1 done on time; 警务云建设 now due 3-31 — not overdue.
    assert (
        police_mar["due"] == ["1"]
        and police_mar["on_time"] == ["100%（1/1）"]
        and police_mar["overdue"] == ["0"]
    )
    assert "截至 2021年3月15日" in mar
    assert 'data-testid="month-2020-01"' in html  # from the plan's first month


def test_scope_and_roles(client, sc):
    login(client, "other_office")
    assert client.get(URL).status_code == 404
    login(client, "police")
    assert client.get(URL).status_code == 403
    login(client, "leader")
    assert client.get(URL).status_code == 200
    login(client, "province")
    assert client.get(URL).status_code == 200
