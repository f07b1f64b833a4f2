"""A 街道 office assesses its community item by item with evidence, the plan office reviews
each item; approving the last item makes a 智慧社区, which writes a dated 智慧社区覆盖率 on
the plan's linked indicator and bumps the plan's data_version."""

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.communities import coverage
from app.engines import community as rules
from app.extensions import db
from app.models import (
    AuditEvent,
    Community,
    CommunityEvidence,
    CommunityItem,
    Department,
    Indicator,
    IndicatorValue,
    Plan,
    Region,
    User,
)
from tests.conftest import csrf_from, login
from tests.factories import _user, add_communities, build_world
from tests.test_functional import PDF

# Numbers that satisfy every formula item of the standard for a community of 200 households.
GOOD = {
    "1": {"fiber_households": "200"},
    "3": {"tv_households": "120"},
    "8": {"smart_lights": "70", "lights": "100", "kwh_plain": "1000", "kwh_smart": "700"},
    "9": {"gov_services": "5"},
    "11": {"online_shops": "7", "shops": "10"},
    "12": {"shared_spaces": "8", "spaces": "100"},
    "13": {"health_records": "450", "residents": "500"},
    "14": {"response_minutes": "12"},
    "23": {"police_items": "8", "safety_items": "10"},
}


@pytest.fixture
def world(app):
    with app.app_context():
        w = add_communities(build_world())
        plan = db.session.get(Plan, db.session.scalar(select(Plan.id).where(Plan.code == "plan-a")))
        plan.standard_code = "sd-city-2019"
        ind = Indicator(
            plan_id=plan.id,
            key="i49",
            name="智慧社区覆盖率",
            unit="%",
            standard_indicator="49",
            standard_quantity="智慧社区覆盖率",
            standard_unit="%",
            four_star_op=">=",
            four_star_value=30,
        )
        db.session.add(ind)
        # A second street of region A with its own user and community.
        west = Department(region_id=w["region_a"], name="甲市西城街道", kind="street")
        db.session.add(west)
        db.session.flush()
        _user("west", "street", db.session.get(Region, w["region_a"]), west)
        other = Community(region_id=w["region_a"], street_id=west.id, name="西城和平社区", households=300)
        db.session.add(other)
        # item 1 of 幸福社区 was submitted by the 街道 user already (factory)
        db.session.commit()
        w.ids.update(plan_a_id=plan.id, coverage_ind=ind.id, west_community=other.id)
        db.session.remove()
    return w


def _form(token, numbers_by_item, met="1", action="submit", versions=None, skip=()):
    data = {"csrf_token": token, "action": action}
    for n in range(1, 26):
        n = str(n)
        if n in skip:
            continue
        data[f"item-{n}-version"] = str((versions or {}).get(n, 0))
        data[f"item-{n}-met"] = met
        for key, value in numbers_by_item.get(n, {}).items():
            data[f"item-{n}-{key}"] = value
    return data


def _item(app, community_id, number):
    with app.app_context():
        item = db.session.scalar(
            select(CommunityItem).where(
                CommunityItem.community_id == community_id, CommunityItem.number == number
            )
        )
        db.session.expunge(item) if item else None
        return item


def test_street_sees_only_its_own_communities(app, client, world):
    login(client, "west")
    assert client.get(f"/communities/{world['community_a']}").status_code == 404
    assert client.get(f"/community-evidence/{world['community_evidence_a']}").status_code == 404
    assert client.get(f"/communities/{world['west_community']}").status_code == 200
    page = client.get("/communities").get_data(as_text=True)
    assert "西城和平社区" in page and "幸福社区" not in page
    login(client, "other_street")  # another region's street
    assert client.get(f"/communities/{world['west_community']}").status_code == 404


def test_street_submits_with_evidence_and_numbers_are_checked(app, client, world):
    cid = world["community_a"]
    login(client, "street")
    token = csrf_from(client, f"/communities/{cid}")
    # item 1 is awaiting review (not on the form); a bad claim on item 3 refuses everything
    bad = _form(token, {**GOOD, "3": {"tv_households": "40"}}, skip=("1",))
    bad["item-3-files"] = (io.BytesIO(PDF), "电视.pdf")
    response = client.post(f"/communities/{cid}", data=bad, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "数字电视和IPTV互动电视覆盖率为 20%" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(CommunityItem.id)).where(CommunityItem.community_id == cid))
            == 1
        )
        assert db.session.scalar(select(func.count(CommunityEvidence.id))) == 2  # the factory's two
    good = _form(token, GOOD, skip=("1",))
    good["item-3-files"] = (io.BytesIO(PDF), "电视.pdf")
    response = client.post(f"/communities/{cid}", data=good, content_type="multipart/form-data")
    assert response.status_code == 302
    item3 = _item(app, cid, "3")
    assert item3.state == "submitted" and item3.met is True and item3.numbers == {"tv_households": 120}
    with app.app_context():
        ev = db.session.scalar(select(CommunityEvidence).where(CommunityEvidence.item_id == item3.id))
        assert ev.original_name == "电视.pdf"
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "community_item.submit")
            )
            == 24
        )
    # the plan office downloads the evidence
    login(client, "office")
    assert client.get(f"/community-evidence/{ev.id}").data == PDF


def _approve(client, item_id, version):
    token = csrf_from(client, "/communities")
    return client.post(f"/community-items/{item_id}/approve", data={"csrf_token": token, "version": version})


def test_last_approval_writes_coverage_and_bumps_the_plan(app, client, world):
    cid = world["community_a"]
    login(client, "street")
    token = csrf_from(client, f"/communities/{cid}")
    assert client.post(f"/communities/{cid}", data=_form(token, GOOD, skip=("1",))).status_code == 302
    # the street cannot approve; the author cannot review their own item (four eyes)
    item1 = _item(app, cid, "1")
    assert client.post(f"/community-items/{item1.id}/approve", data={"csrf_token": token}).status_code == 403
    login(client, "office")
    with app.app_context():
        items = db.session.scalars(select(CommunityItem).where(CommunityItem.community_id == cid)).all()
        ids = sorted((int(i.number), i.id, i.version) for i in items)
        version_before = db.session.get(Plan, world["plan_a_id"]).data_version
    assert len(ids) == 25
    # a stale page is refused
    assert _approve(client, ids[0][1], ids[0][2] + 1).status_code == 409
    for number, item_id, version in ids[:-1]:
        assert _approve(client, item_id, version).status_code == 302, number
    with app.app_context():
        # the first approval records the traced coverage (0 of 2); 24 of 25 is not yet a 智慧社区
        assert [v.value_number for v in db.session.scalars(select(IndicatorValue))] == [0.0]
    response = _approve(client, ids[-1][1], ids[-1][2])
    assert response.status_code == 302
    page = client.get(f"/communities/{cid}").get_data(as_text=True)
    assert "已认定为智慧社区" in page and "1/2 = 50%" in page
    with app.app_context():
        value = db.session.scalars(select(IndicatorValue).order_by(IndicatorValue.id.desc())).first()
        assert value.indicator_id == world["coverage_ind"] and value.state == "approved"
        assert value.value_number == 50.0 and value.source == coverage.SOURCE  # 1 of 2 communities in A
        assert db.session.get(Plan, world["plan_a_id"]).data_version > version_before
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "community.coverage")
            )
            == 2
        )
    # the matrix, the indicator page and the stars' input agree
    matrix = client.get("/communities").get_data(as_text=True)
    assert re.search(r'data-testid="region-rate">50%', matrix)
    assert re.search(r'data-testid="plan-coverage">50%', matrix)
    assert "50" in client.get(f"/indicators/{world['coverage_ind']}").get_data(as_text=True)


def test_return_needs_a_reason_and_reopens_the_item(app, client, world):
    item = _item(app, world["community_a"], "1")
    login(client, "office")
    token = csrf_from(client, "/communities")
    client.post(f"/community-items/{item.id}/return", data={"csrf_token": token, "version": item.version})
    assert _item(app, world["community_a"], "1").state == "submitted"
    client.post(
        f"/community-items/{item.id}/return",
        data={"csrf_token": token, "version": item.version, "reason": "缺少入户清单"},
    )
    item = _item(app, world["community_a"], "1")
    assert item.state == "returned" and item.return_reason == "缺少入户清单"
    login(client, "street")
    page = client.get(f"/communities/{world['community_a']}").get_data(as_text=True)
    assert "退回原因：缺少入户清单" in page and 'name="item-1-version"' in page


def test_rule_per_region_moves_the_coverage(app, client, world):
    cid = world["community_a"]
    login(client, "office")
    token = csrf_from(client, "/communities")
    item = _item(app, cid, "1")
    assert _approve(client, item.id, item.version).status_code == 302
    response = client.post(
        "/communities/rule", data={"csrf_token": token, "version": "0", "required_items": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert coverage.region_state(world["region_a"]).smart == 1
        values = [
            v.value_number for v in db.session.scalars(select(IndicatorValue).order_by(IndicatorValue.id))
        ]
        assert values == [0.0, 50.0]
    # a stale rule form is refused
    response = client.post(
        "/communities/rule", data={"csrf_token": token, "version": "0", "required_items": "25"}
    )
    assert response.status_code == 409
    assert "至少 <strong>1</strong> 项" in client.get("/communities").get_data(as_text=True)


def test_export_matrix_xlsx(app, client, world):
    login(client, "office")
    response = client.get("/communities.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb["评估矩阵"]
    names = [ws.cell(r, 2).value for r in range(3, ws.max_row + 1)]
    assert sorted(names) == ["甲市东城街道幸福社区", "西城和平社区"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "甲市东城街道幸福社区")
    cells = {ws.cell(2, c).value.split(" ")[0]: ws.cell(row, c).value for c in range(6, 31)}
    assert cells["1"] == "待审核" and cells["2"] == "未填报"
    assert wb["街道进度"].max_row == 3


def _workbook(rows, sheet="社区", header=("街道/镇", "社区名称", "户数")):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(client, data):
    token = csrf_from(client, "/communities/import")
    return client.post(
        "/communities/import",
        data={"csrf_token": token, "workbook": (io.BytesIO(data), "社区.xlsx")},
        content_type="multipart/form-data",
    )


def test_import_is_all_or_nothing_with_errors_by_sheet_row_column(app, client, world):
    login(client, "office")
    bad = _workbook(
        [
            ("甲市南城街道", "南城一社区", 100),
            ("甲市南城街道", "", 50),
            ("甲市南城街道", "南城三社区", "很多"),
        ]
    )
    response = _import(client, bad)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "工作表“社区”第 3 行“社区名称”列：不能为空" in text
    assert "工作表“社区”第 4 行“户数”列：“很多”应为正整数" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(Community.id))) == 3  # nothing written
        assert (
            db.session.scalar(select(func.count(Department.id)).where(Department.name == "甲市南城街道")) == 0
        )
    assert "缺少列“户数”" in _import(client, _workbook([], header=("街道/镇", "社区名称"))).get_data(
        as_text=True
    )
    assert "没有名为“社区”的工作表" in _import(client, _workbook([], sheet="Sheet")).get_data(as_text=True)
    # a department that is not a street cannot take communities
    text = _import(client, _workbook([("甲市公安局", "警苑社区", 10)])).get_data(as_text=True)
    assert "第 2 行“街道/镇”列：“甲市公安局”是本区域的部门，不是街道 / 镇" in text
    # the template holds the region's communities as they are, and imports back unchanged
    template = client.get("/communities/import-template.xlsx")
    assert template.status_code == 200
    rows = list(load_workbook(io.BytesIO(template.data))["社区"].iter_rows(values_only=True))
    assert rows[0] == ("街道/镇", "社区名称", "户数") and ("甲市西城街道", "西城和平社区", 300) in rows
    assert _import(client, template.data).status_code == 302
    good = _workbook([("甲市南城街道", "南城一社区", 100), ("甲市西城街道", "西城和平社区", 320)])
    assert _import(client, good).status_code == 302
    with app.app_context():
        south = db.session.scalar(select(Department).where(Department.name == "甲市南城街道"))
        assert south.kind == "street" and south.region_id == world["region_a"]
        assert db.session.get(Community, world["west_community"]).households == 320
        assert (
            db.session.scalar(
                select(func.count(Community.id)).where(Community.region_id == world["region_a"])
            )
            == 3
        )


def test_plan_office_adds_and_edits_communities_with_locking(app, client, world):
    login(client, "office")
    with app.app_context():
        west = db.session.scalar(select(Department.id).where(Department.name == "甲市西城街道"))
    token = csrf_from(client, "/communities/new")
    data = {
        "csrf_token": token,
        "name": "西城新社区",
        "street_id": str(west),
        "households": "150",
        "version": "0",
    }
    assert client.post("/communities/new", data=data).status_code == 302
    assert client.post("/communities/new", data=data).status_code == 400  # same name
    cid = world["west_community"]
    data = {
        "csrf_token": token,
        "name": "西城和平社区",
        "street_id": str(west),
        "households": "310",
        "version": "1",
    }
    assert client.post(f"/communities/{cid}/edit", data=data).status_code == 302
    assert client.post(f"/communities/{cid}/edit", data=data).status_code == 409  # version 1 is gone
    data["street_id"] = str(world["police_dept"])  # not a street
    data["version"] = "2"
    assert client.post(f"/communities/{cid}/edit", data=data).status_code == 400


def test_coverage_refuses_a_link_in_another_unit(app, world):
    with app.app_context():
        ind = db.session.get(Indicator, world["coverage_ind"])
        ind.standard_unit = ind.unit = "个"
        db.session.flush()
        with pytest.raises(ValueError, match="单位"):
            coverage.coverage_target(ind.plan)
        db.session.rollback()


def test_communities_needed_matches_the_matrix(app, world):
    with app.app_context():
        state = coverage.region_state(world["region_a"])
        assert (state.smart, state.total) == (0, 2)
        assert rules.communities_needed(state.smart, state.total, ">=", 30) == 1


def test_gap_step_on_coverage_names_the_communities(app, world):
    from app.engines.standards import load_standard

    std = load_standard("sd-city-2019")
    with app.app_context():
        plan = db.session.get(Plan, world["plan_a_id"])
        way = {
            "steps": [
                {"number": "49", "name": "智慧社区覆盖率", "to_level": 4, "from_level": 0},
                {"number": "50", "name": "other", "to_level": 4, "from_level": 0},
            ]
        }
        coverage.community_steps([way], plan, std)
        assert way["steps"][0]["communities"] == {"needed": 1, "smart": 0, "total": 2, "rate": "0"}  # >= 30%
        assert "communities" not in way["steps"][1]
        way = {"steps": [{"number": "49", "name": "智慧社区覆盖率", "to_level": 5, "from_level": 0}]}
        coverage.community_steps([way], plan, std)
        assert way["steps"][0]["communities"]["needed"] == 2  # 超过 50%: 1 of 2 is not enough


def test_nobody_reviews_their_own_item(app, world):
    from workflows import community_review

    with app.app_context():
        item = db.session.get(CommunityItem, world["community_item_a"])
        author = db.session.get(User, item.author_id)
        with pytest.raises(community_review.TransitionError, match="四眼"):
            community_review.approve(item, author)
        db.session.rollback()


def test_street_lands_on_its_communities_and_cannot_edit_them(app, client, world):
    login(client, "street")
    assert client.get("/").headers["Location"].endswith("/communities")
    assert client.get(f"/communities/{world['community_a']}/edit").status_code == 403
    assert client.get("/communities/import").status_code == 403
    assert client.get("/plans").status_code == 403


def test_admin_makes_street_accounts_only_on_street_departments(app, client, world):
    login(client, "admin")
    token = csrf_from(client, "/admin/users/new")
    data = {
        "csrf_token": token,
        "username": "south",
        "display_name": "南城街道",
        "role": "street",
        "region_id": world["region_a"],
        "department_id": world["police_dept"],
        "password": "long-password",
        "active": "y",
    }
    assert "不是" in client.post("/admin/users/new", data=data).get_data(as_text=True)
    data["department_id"] = world["street_dept_a"]
    assert client.post("/admin/users/new", data=data).status_code == 302
    login(client, "south", "long-password")
    assert client.get(f"/communities/{world['community_a']}").status_code == 200


def test_control_characters_in_a_note_are_refused(app, client, world):
    cid = world["community_a"]
    login(client, "street")
    token = csrf_from(client, f"/communities/{cid}")
    data = {
        "csrf_token": token,
        "action": "save",
        "item-2-version": "0",
        "item-2-met": "1",
        "item-2-note": "a\x00b",
    }
    response = client.post(f"/communities/{cid}", data=data)
    assert response.status_code == 400 and "第 2 项：说明含不允许的控制字符" in response.get_data(
        as_text=True
    )
    assert _item(app, cid, "2") is None


def test_street_takes_a_file_off_a_draft_item_only(app, client, world):
    cid = world["community_a"]
    login(client, "street")
    token = csrf_from(client, f"/communities/{cid}")
    data = {"csrf_token": token, "action": "save", "item-2-version": "0", "item-2-met": "1"}
    data["item-2-files"] = (io.BytesIO(PDF), "无线.pdf")
    assert (
        client.post(f"/communities/{cid}", data=data, content_type="multipart/form-data").status_code == 302
    )
    item = _item(app, cid, "2")
    with app.app_context():
        ev = db.session.scalar(select(CommunityEvidence).where(CommunityEvidence.item_id == item.id))
        ev_id, stored = ev.id, ev.stored_name
        from app import uploads

        path = uploads.storage_dir() / stored
    assert path.is_file()
    assert 'data-testid="delete-evidence-' in client.get(f"/communities/{cid}").get_data(as_text=True)
    url = f"/community-evidence/{ev_id}/delete"
    assert client.post(url, data={"csrf_token": token, "version": item.version + 1}).status_code == 409
    assert client.post(url, data={"csrf_token": token, "version": item.version}).status_code == 302
    assert not path.exists()
    with app.app_context():
        assert db.session.get(CommunityEvidence, ev_id) is None
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "community_evidence.delete")
            )
            == 1
        )
    # the submitted item's file stays
    url = f"/community-evidence/{world['community_evidence_a']}/delete"
    assert client.post(url, data={"csrf_token": token, "version": "1"}).status_code == 403


def test_review_queue_lists_communities_waiting(app, client, world):
    login(client, "office")
    page = client.get("/review").get_data(as_text=True)
    assert "待审核的智慧社区评估（1 项）" in page and "甲市东城街道幸福社区" in page
    login(client, "other_office")  # region B's office sees B's community only
    page = client.get("/review").get_data(as_text=True)
    assert "乙县城关镇幸福社区" in page and "甲市东城街道幸福社区" not in page


def test_approve_all_is_all_or_nothing_against_the_page_shown(app, client, world):
    cid = world["community_a"]
    login(client, "street")
    token = csrf_from(client, f"/communities/{cid}")
    assert client.post(f"/communities/{cid}", data=_form(token, GOOD, skip=("1",))).status_code == 302
    login(client, "office")
    page = client.get(f"/communities/{cid}").get_data(as_text=True)
    shown = re.search(r'name="items" value="([^"]+)"', page).group(1)
    assert len(shown.split(",")) == 25
    token = csrf_from(client, f"/communities/{cid}")
    # one item fewer than waiting: the page is stale, nothing is approved
    partial = ",".join(shown.split(",")[:-1])
    response = client.post(f"/communities/{cid}/approve-all", data={"csrf_token": token, "items": partial})
    assert response.status_code == 409
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(CommunityItem.id)).where(CommunityItem.state == "approved"))
            == 0
        )
    response = client.post(f"/communities/{cid}/approve-all", data={"csrf_token": token, "items": shown})
    assert response.status_code == 302
    with app.app_context():
        assert coverage.region_state(world["region_a"]).smart == 1
        value = db.session.scalars(select(IndicatorValue).order_by(IndicatorValue.id.desc())).first()
        assert value.value_number == 50.0
