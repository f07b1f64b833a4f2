"""The plan office uploads a plan workbook in the browser, sees what would change,
and applies it all or nothing; a plan changed since the preview gets 409."""

import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Department, Milestone, Plan, ProgressReport, Region, User
from app.planio import writer as plan_writer
from app.planio.excel import plan_to_xlsx
from app.planio.loader import load_files
from app.plans import plan_import
from tests.conftest import csrf_from, login
from tests.factories import PASSWORD
from tests.planio.helpers import WEIHAI, rows

CODE = "weihai-1313"
URL = f"/plans/{CODE}/import"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _user(username, role, region, dept=None):
    user = User(username=username, display_name=username, role=role, region_id=region.id, department_id=dept)
    user.set_password(PASSWORD)
    db.session.add(user)


@pytest.fixture
def weihai(app):
    with app.app_context():
        assert load_files([WEIHAI]).ok
        region = db.session.scalar(select(Region).where(Region.name == "威海市"))
        office = db.session.scalar(select(Department).where(Department.name == "市大数据中心"))
        other = Region(name="乙县", kind="county")
        db.session.add(other)
        db.session.flush()
        _user("office", "plan_office", region, office.id)
        _user("dept", "department", region, office.id)
        _user("leader", "leading_group", region)
        _user("other_office", "plan_office", other)
        db.session.commit()
        return plan_to_xlsx(CODE)


@pytest.fixture(autouse=True)
def no_pending(app):
    for path in pending_files(app):
        path.unlink()


@pytest.fixture
def recomputes(monkeypatch):
    calls = []
    monkeypatch.setattr(plan_import, "request_recompute", calls.append)
    return calls


def _col(ws, header):
    return next(c.column for c in ws[1] if c.value == header)


def _row(ws, key):
    col = _col(ws, "键")
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == key)


def _save(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _book(data):
    return openpyxl.load_workbook(io.BytesIO(data))


def _unlinked_milestones(wb) -> list[str]:
    """Milestones no dependency names, so their rows can go without breaking the sheet."""
    tree, deps = wb["任务与里程碑"], wb["依赖关系"]
    named = {v for row in deps.iter_rows(min_row=2, values_only=True) for v in row[:2]}
    keys = [r[1] for r in tree.iter_rows(min_row=2, values_only=True) if r[0] == "里程碑"]
    return [k for k in keys if k not in named]


def edited(data) -> tuple[bytes, dict]:
    """The workbook with a title, a date and co-departments changed, two milestones
    dropped and a dependency added."""
    wb = _book(data)
    tree, deps = wb["任务与里程碑"], wb["依赖关系"]
    r = _row(tree, "wh-p01-2020")
    tree.cell(r, _col(tree, "标题"), "指挥中心整合（2020年，调整）")
    tree.cell(r, _col(tree, "截止日期"), date(2021, 3, 31))
    names = [n for (n, *_rest) in wb["部门"].iter_rows(min_row=2, values_only=True) if n != "市大数据中心"]
    co = names[:2]
    tree.cell(r, _col(tree, "配合部门"), "、".join(co))
    free = _unlinked_milestones(wb)
    dropped, kept = free[0], free[1]
    for key in (dropped, kept):
        tree.delete_rows(_row(tree, key))
    new = deps.max_row + 1
    for header, value in [("前置里程碑", free[2]), ("后续里程碑", "wh-p01-2022"), ("滞后天数", 0)]:
        deps.cell(new, _col(deps, header), value)
    deps.cell(new, _col(deps, "理由"), "测试新增")
    return _save(wb), {"dropped": dropped, "kept": kept, "pred": free[2], "co": co}


def upload(client, data, name="weihai-1313.xlsx"):
    token = csrf_from(client, URL)
    return client.post(
        URL,
        data={"csrf_token": token, "workbook": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def apply_fields(page: str) -> dict:
    form = page[page.index(f'action="/plans/{CODE}/import/apply"') :].split("</form>")[0]
    return dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', form))


def pending_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "plan-imports"
    return list(folder.glob("*.xlsx")) if folder.exists() else []


def _report_on(key):
    m = db.session.scalar(select(Milestone).where(Milestone.key == key))
    author = db.session.scalar(select(User).where(User.username == "dept"))
    db.session.add(
        ProgressReport(
            milestone=m,
            department_id=author.department_id,
            author_id=author.id,
            text="已启动",
            percent=10,
            claimed_status="in_progress",
            state="submitted",
        )
    )
    db.session.commit()


def test_only_the_plan_office_of_the_region(client, app, weihai):
    login(client, "leader")
    assert client.get(URL).status_code == 403
    login(client, "dept")
    assert client.get(URL).status_code == 403
    login(client, "other_office")
    assert client.get(URL).status_code == 404
    login(client, "office")
    page = client.get(URL).get_data(as_text=True)
    assert "导入计划工作簿" in page and 'enctype="multipart/form-data"' in page
    assert "导入 Excel" in client.get(f"/plans/{CODE}").get_data(as_text=True)


def test_preview_shows_the_changes_and_writes_nothing(client, app, weihai):
    data, keys = edited(weihai)
    login(client, "office")
    with app.app_context():
        _report_on(keys["kept"])
        before = rows()
    response = upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "预览：weihai-1313.xlsx" in page
    section = page[page.index('data-testid="import-里程碑"') :].split("</table>")[0]
    one = section[section.index("wh-p01-2020") :]
    assert "指挥中心整合（2020年）" in section and "指挥中心整合（2020年，调整）" in one
    assert "基线期限</td><td>2020年12月31日</td><td>2021年3月31日" in one
    assert "完成期限</td><td>2020年12月31日</td><td>2021年3月31日" in one
    assert f"配合部门</td><td>（空）</td><td>{'、'.join(keys['co'])}" in one
    assert re.search(rf"删除</td><td[^>]*>{keys['dropped']}<", section)
    succ = section[section.index("wh-p01-2022") :]
    new = "、".join(sorted([keys["pred"], "wh-p01-2020"]))
    assert f"前置里程碑</td><td>wh-p01-2020</td><td>{new}" in succ
    orphaned = page[page.index('data-testid="import-orphaned"') :].split("</ul>")[0]
    assert keys["kept"] in orphaned and "已有 1 份进展汇报" in orphaned and "将保留，不会删除" in orphaned
    assert "确认导入" in page
    with app.app_context():
        db.session.expire_all()
        assert rows() == before  # nothing written, not even an audit row
    assert len(pending_files(app)) == 1


def test_apply_writes_everything_audited_and_requests_a_forecast(client, app, weihai, recomputes):
    data, keys = edited(weihai)
    with app.app_context():
        _report_on(keys["kept"])
    login(client, "office")
    fields = apply_fields(upload(client, data).get_data(as_text=True))
    with app.app_context():
        last_event = db.session.scalar(select(func.max(AuditEvent.id)))
    response = client.post(f"{URL}/apply", data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/plans/{CODE}")
    page = client.get(f"/plans/{CODE}").get_data(as_text=True)
    assert "已导入计划工作簿" in page and "已保留" in page
    with app.app_context():
        m = db.session.scalar(select(Milestone).where(Milestone.key == "wh-p01-2020"))
        assert m.title == "指挥中心整合（2020年，调整）"
        assert (m.due_date, m.baseline_due_date) == (date(2021, 3, 31), date(2021, 3, 31))
        assert [d.name for d in m.co_departments] == keys["co"]
        keys_now = set(db.session.scalars(select(Milestone.key)))
        assert keys["dropped"] not in keys_now and keys["kept"] in keys_now  # work kept
        office = db.session.scalar(select(User).where(User.username == "office"))
        summary = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plan.import_xlsx")).one()
        assert summary.user_id == office.id and "网页导入计划工作簿“weihai-1313.xlsx”" in summary.summary
        update = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "plan_load.update", AuditEvent.milestone_id == m.id)
        ).one()
        assert update.user_id == office.id
        assert update.before["title"] == "指挥中心整合（2020年）"
        assert update.after["title"] == "指挥中心整合（2020年，调整）"
        assert update.after["co_departments"] == keys["co"]
        new_rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_event)).all()
        assert len(new_rows) >= 4 and all(e.user_id == office.id for e in new_rows)
        plan_id = db.session.scalar(select(Plan.id).where(Plan.code == CODE))
    assert recomputes == [plan_id]
    assert pending_files(app) == []
    again = client.post(f"{URL}/apply", data=fields)  # the same preview cannot be applied twice
    assert again.status_code == 409


def test_a_plan_changed_since_the_preview_gets_409(client, app, weihai, recomputes):
    data, _ = edited(weihai)
    login(client, "office")
    fields = apply_fields(upload(client, data).get_data(as_text=True))
    with app.app_context():  # someone edits a milestone meanwhile
        m = db.session.scalar(select(Milestone).where(Milestone.key == "wh-p01-2022"))
        m.text = "别人刚改过"
        db.session.commit()
        before = rows()
    response = client.post(f"{URL}/apply", data=fields)
    assert response.status_code == 409
    assert "计划在您预览之后已被修改" in response.get_data(as_text=True)
    with app.app_context():
        db.session.expire_all()
        assert rows() == before
    assert recomputes == []


def test_a_different_file_than_previewed_gets_409(client, app, weihai):
    data, _ = edited(weihai)
    login(client, "office")
    fields = apply_fields(upload(client, data).get_data(as_text=True))
    with app.app_context():
        before = rows()
    assert client.post(f"{URL}/apply", data=fields | {"file_sha": "0" * 64}).status_code == 409
    assert client.post(f"{URL}/apply", data=fields | {"upload": "f" * 40}).status_code == 409
    assert client.post(f"{URL}/apply", data=fields | {"upload": "../../etc/passwd"}).status_code == 409
    with app.app_context():
        db.session.expire_all()
        assert rows() == before
    login(client, "other_office")
    assert client.post(f"{URL}/apply", data=fields).status_code == 404


def test_an_error_while_applying_writes_nothing(client, app, weihai, monkeypatch):
    data, _ = edited(weihai)
    login(client, "office")
    fields = apply_fields(upload(client, data).get_data(as_text=True))
    with app.app_context():
        before = rows()

    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plan_writer.PlanWriter, "_dependencies", broken)  # after nodes and milestones
    response = client.post(f"{URL}/apply", data=fields)
    assert response.status_code == 500 and "计划未作任何修改" in response.get_data(as_text=True)
    with app.app_context():
        db.session.expire_all()
        assert rows() == before


def test_another_plans_workbook_is_refused(client, app, weihai):
    wb = _book(weihai)
    plan_sheet = wb["计划"]
    for row in plan_sheet.iter_rows(min_row=2):
        if row[0].value == "代码":
            row[1].value = "zhangqiu-3n"
    login(client, "office")
    response = upload(client, _save(wb), "zhangqiu.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "该工作簿是计划“zhangqiu-3n”的" in page and "不是本计划“weihai-1313”的" in page
    assert "确认导入" not in page and pending_files(app) == []


def test_errors_are_listed_in_chinese_at_their_cells(client, app, weihai):
    wb = _book(weihai)
    tree = wb["任务与里程碑"]
    r = _row(tree, "wh-p01-2020")
    tree.cell(r, _col(tree, "截止日期"), "2021-02-30")
    tree.cell(r, _col(tree, "部门（首位牵头）"), "无名办")
    login(client, "office")
    response = upload(client, _save(wb))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    due = openpyxl.utils.get_column_letter(_col(tree, "截止日期"))
    lead = openpyxl.utils.get_column_letter(_col(tree, "部门（首位牵头）"))
    assert f"工作表“任务与里程碑”第 {r} 行 {due} 列：截止日期 “2021-02-30” 不是日期" in page
    assert (
        f"工作表“任务与里程碑”第 {r} 行 {lead} 列：部门（首位牵头） 部门 &#39;无名办&#39; 未列在“部门”"
        in page
    )
    assert "确认导入" not in page and pending_files(app) == []


def test_an_empty_title_is_refused(client, app, weihai):
    wb = _book(weihai)
    tree = wb["任务与里程碑"]
    r, col = _row(tree, "wh-p01-2020"), _col(tree, "标题")
    tree.cell(r, col).value = None
    login(client, "office")
    with app.app_context():
        before = rows()
    response = upload(client, _save(wb))
    page = response.get_data(as_text=True)
    letter = openpyxl.utils.get_column_letter(col)
    assert response.status_code == 400 and f"工作表“任务与里程碑”第 {r} 行 {letter} 列：标题 不能为空" in page
    with app.app_context():
        db.session.expire_all()
        assert rows() == before
    assert pending_files(app) == []


@pytest.mark.parametrize(
    "data,name,message",
    [
        (PDF, "weihai.xlsx", "不是有效的 Excel 工作簿"),
        (b"PK\x03\x04not really a zip", "weihai.xlsx", "不是有效的 Excel 工作簿"),
        (b"a,b\n1,2\n", "weihai.csv", "不是 .xlsx 工作簿"),
        (b"", "weihai.xlsx", "为空"),
    ],
)
def test_not_a_workbook_is_refused(client, app, weihai, data, name, message):
    login(client, "office")
    response = upload(client, data, name)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert pending_files(app) == []


def test_unchanged_workbook_has_nothing_to_apply(client, app, weihai):
    login(client, "office")
    page = upload(client, weihai).get_data(as_text=True)
    assert "导入不会做任何修改" in page and "确认导入" not in page


def test_upload_without_csrf_is_refused(client, app, weihai):
    login(client, "office")
    response = client.post(
        URL, data={"workbook": (io.BytesIO(weihai), "w.xlsx")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and pending_files(app) == []
