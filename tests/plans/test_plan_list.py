"""The list of plans a province of many areas sees: paged on the server, with a search box."""

import re

from app.extensions import db
from app.plans import routes
from tests.conftest import login
from tests.factories import add_areas, build_world


def codes(page: str) -> list[str]:
    return re.findall(r'href="/plans/([\w-]+)"', page)


def test_plans_are_paged_and_searched(app, client, monkeypatch):
    with app.app_context():
        build_world()
        add_areas(3)  # plan-a, plan-b, area-0 … area-2: five plans
        db.session.commit()
    monkeypatch.setattr(routes, "PLANS_PER_PAGE", 2)
    login(client, "province")
    first = client.get("/plans").get_data(as_text=True)
    assert "共 5 个" in first and "第 1 / 3 页" in first and "下一页" in first
    seen = codes(first) + codes(client.get("/plans?page=2").get_data(as_text=True))
    seen += codes(client.get("/plans?page=3").get_data(as_text=True))
    assert sorted(seen) == ["area-0", "area-1", "area-2", "plan-a", "plan-b"]  # each once
    found = client.get("/plans?q=扩展1区").get_data(as_text=True)
    assert codes(found) == ["area-1"] and "找到 1 个" in found
    assert "没有符合" in client.get("/plans?q=100%25_").get_data(as_text=True)  # wildcards literal
    assert client.get("/plans?page=²").status_code == 200  # a bad page number is page 1
