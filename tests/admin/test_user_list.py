"""/admin/users: 50 a page with 上一页/下一页 and the total, a search box (username, name,
department), region and department loaded with the rows."""

import re

from app.extensions import db
from app.models import Department, User
from tests.conftest import login
from tests.factories import build_world

LINK = re.compile(r'href="/admin/users/(\d+)"')


def _ids(client, query=""):
    page = client.get(f"/admin/users{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    return [int(i) for i in LINK.findall(text)], text


def test_pages_of_fifty_with_total_and_search(app, client):
    with app.app_context():
        build_world()
        police = db.session.scalar(db.select(Department).where(Department.name == "甲市公安局"))
        for i in range(60):
            db.session.add(
                User(
                    username=f"u{i:03d}",
                    display_name=f"民警{i}",
                    role="department",
                    region_id=police.region_id,
                    department_id=police.id,
                    password_hash="x",
                )
            )
        db.session.commit()
    login(client, "admin")
    first, page = _ids(client)
    assert len(first) == 50
    assert "共 68 个" in page and "第 1 / 2 页" in page
    assert 'href="/admin/users?page=2"' in page and "上一页" not in page
    second, page = _ids(client, "?page=2")
    assert len(second) == 18 and not set(first) & set(second)
    assert "下一页" not in page and "上一页" in page
    # Search: a name, a username, a department.
    assert len(_ids(client, "?q=民警1")[0]) == 11  # 民警1, 民警10 … 民警19
    found, page = _ids(client, "?q=u00")
    assert len(found) == 10 and "找到 10 个" in page
    assert len(_ids(client, "?q=交通运输")[0]) == 1
    found, page = _ids(client, "?q=%25")
    assert found == [] and "没有符合" in page
    # Paging keeps the search; a bad page number is the first page.
    _, page = _ids(client, "?q=民警")
    assert 'href="/admin/users?page=2&amp;q=' in page
    assert _ids(client, "?page=abc")[0] == first
    assert _ids(client, "?page=999")[0] == []


def test_departments_paged_and_searchable(app, client):
    with app.app_context():
        w = build_world()
        for i in range(55):
            db.session.add(Department(region_id=w["region_b"], name=f"乙县部门{i:02d}"))
        db.session.commit()
    login(client, "admin")
    page = client.get("/admin/departments").get_data(as_text=True)
    assert "共 59 个" in page and "第 1 / 2 页" in page
    assert page.count('href="/admin/departments/') == 50
    page = client.get("/admin/departments?page=2").get_data(as_text=True)
    assert page.count('href="/admin/departments/') == 9
    page = client.get("/admin/departments?q=公安").get_data(as_text=True)
    assert "找到 1 个" in page and "甲市公安局" in page
    page = client.get("/admin/departments?q=甲市").get_data(as_text=True)  # by region name
    assert "找到 3 个" in page
