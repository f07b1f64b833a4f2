"""我的工作 pages a department's open milestones (by due date) and shows the most recently
finished ones with their count: a department of a big plan answers for hundreds."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Milestone
from tests.conftest import login
from tests.factories import build_world


def _open_ids(html: str) -> list[int]:
    table = html.split('data-testid="my-milestones"')[1].split("</table>")[0]
    return [int(i) for i in re.findall(r'href="/milestones/(\d+)"', table)]


def test_open_milestones_come_a_page_at_a_time_and_finished_ones_as_the_latest(app, client, monkeypatch):
    from app.mywork import routes

    monkeypatch.setattr(routes, "MY_PAGE", 3)
    monkeypatch.setattr(routes, "DONE_SHOWN", 2)
    with app.app_context():
        w = build_world()
        base = db.session.get(Milestone, w["m_police"])
        for i in range(6):  # three finished, the rest open, all led by 甲市公安局
            db.session.add(
                Milestone(
                    plan_id=base.plan_id,
                    node_id=base.node_id,
                    key=f"p{i}",
                    title=f"公安扩展{i}",
                    due_date=date(2021, 5, 1) + timedelta(days=i),
                    baseline_due_date=date(2021, 5, 1) + timedelta(days=i),
                    lead_department_id=w["police_dept"],
                    status="done" if i < 3 else "in_progress",
                    percent=100 if i < 3 else 10,
                    actual_finish=date(2021, 3, 1) + timedelta(days=i) if i < 3 else None,
                )
            )
        db.session.commit()
        police = w["police_dept"]
        mine = select(Milestone).where(
            (Milestone.lead_department_id == police) | Milestone.co_departments.any(id=police)
        )
        rows = db.session.scalars(mine).all()
        expected = [
            m.id for m in sorted((m for m in rows if m.status != "done"), key=lambda m: (m.due_date, m.id))
        ]
        finished = sorted(
            (m for m in rows if m.status == "done"), key=lambda m: m.actual_finish, reverse=True
        )
    login(client, "police")
    seen, url = [], "/my"
    for _ in range(5):
        html = client.get(url).get_data(as_text=True)
        assert html.count('data-testid="my-open-total"') == 1
        assert f'data-testid="my-open-total">{len(expected)}<' in html
        seen += _open_ids(html)
        nxt = re.search(r'<a href="(/my\?page=\d+)">下一页', html)
        if not nxt:
            break
        url = nxt.group(1)
    assert seen == expected and len(expected) > 3
    first = client.get("/my").get_data(as_text=True)
    assert f"已完成（{len(finished)}）" in first and "列出最近完成的 2 个" in first
    done = first.split("已完成（")[1]
    assert finished[0].title in done and finished[1].title in done and finished[-1].title not in done
    # a stale link past the last page shows the first
    assert _open_ids(client.get("/my?page=40").get_data(as_text=True)) == expected[:3]
