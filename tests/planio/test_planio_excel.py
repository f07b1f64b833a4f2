"""Excel round trip: export a plan to .xlsx, import it into an empty database, and
get the same `plans export`; a broken workbook is refused cell by cell, writing nothing."""

import io

import openpyxl
import pytest

from app.extensions import db
from app.planio.excel import check_xlsx, import_xlsx, plan_to_xlsx, xlsx_to_plan
from app.planio.excel_layout import parse_targets, targets_text
from app.planio.loader import load_files
from tests.conftest import empty_tables, login
from tests.factories import build_world
from tests.planio.helpers import WEIHAI, ZHANGQIU, counts, read

SHEETS = ["计划", "部门", "任务与里程碑", "依赖关系", "指标"]


def run(app, *args):
    return app.test_cli_runner().invoke(args=["plans", *map(str, args)])


def empty_database() -> None:
    empty_tables()


@pytest.mark.parametrize("path", [WEIHAI, ZHANGQIU], ids=["weihai", "zhangqiu"])
def test_round_trip_into_an_empty_database(app, tmp_path, path):
    code = read(path)["code"]
    assert run(app, "load", path).exit_code == 0
    before = run(app, "export", code, "--json")
    assert before.exit_code == 0, before.output
    book = tmp_path / f"{code}.xlsx"
    result = run(app, "export-xlsx", code, "--output", book)
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(book).sheetnames == SHEETS

    with app.app_context():
        empty_database()
        assert sum(counts().values()) == 0
    result = run(app, "import-xlsx", book)
    assert result.exit_code == 0, result.output
    assert f"{code} ({book})" in result.stdout
    after = run(app, "export", code, "--json")
    assert after.exit_code == 0, after.output
    assert after.stdout == before.stdout

    again = run(app, "import-xlsx", book)  # the same workbook again changes nothing
    assert "created 0, updated 0, deleted 0, orphaned 0" in again.stdout


def test_workbook_is_readable(ctx):
    assert load_files([WEIHAI]).ok
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("weihai-1313")))
    tree, inds = wb["任务与里程碑"], wb["指标"]
    assert tree.freeze_panes == "C2" and inds.freeze_panes == "F2"
    assert [c.value for c in tree[1]][:3] == ["类型", "键", "上级节点"]
    rows = list(tree.iter_rows(min_row=2, values_only=True))
    assert rows[0][:4] == ("节点", "wh-center", None, "中心")
    milestone = next(r for r in rows if r[1] == "wh-p01-2020")
    assert milestone[0] == "里程碑" and milestone[2] == "wh-p01" and milestone[7] == "市大数据中心"
    assert milestone[8].date().isoformat() == "2020-12-31"  # a real Excel date
    assert any(r[11] and "5G" in r[11] and ">=" in r[11] for r in rows)
    plan = {r[0]: r[1] for r in wb["计划"].iter_rows(min_row=2, values_only=True)}
    assert plan["代码"] == "weihai-1313" and plan["地区级别"] == "市" and "4星目标" in plan


def test_targets_text_round_trips():
    targets = [
        {"metric": "5G基站数量", "op": ">=", "value": 1500, "unit": "个"},
        {"metric": "带宽", "op": ">", "value": 2.5, "unit": None},
    ]
    text = targets_text(targets)
    assert text == "5G基站数量>=1500个; 带宽>2.5"
    assert parse_targets(text) == targets
    odd = [{"metric": "a;b", "op": "==", "value": 1}]  # no unit key, a separator in the name
    assert parse_targets(targets_text(odd)) == odd
    assert parse_targets("数量大约一千") is None


def _find(ws, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


def _row(ws, key: str) -> int:
    col = _find(ws, "键")
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == key)


def _letter(ws, header: str) -> str:
    return openpyxl.utils.get_column_letter(_find(ws, header))


def _save(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_broken_workbook_lists_cells_and_writes_nothing(app, ctx, tmp_path):
    assert load_files([WEIHAI]).ok
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("weihai-1313")))
    inds, tree = wb["指标"], wb["任务与里程碑"]
    i_row, m_row = _row(inds, "wh-i01"), _row(tree, "wh-p01-2020")
    inds.cell(i_row, _find(inds, "四星值"), "八十")
    inds.cell(i_row, _find(inds, "责任部门（首位牵头）"), "不存在局")
    tree.cell(m_row, _find(tree, "截止日期"), "2021-02-30")
    tree.cell(m_row, _find(tree, "部门（首位牵头）"), "无名办")
    tree.cell(_row(tree, "wh-p01-2022"), _find(tree, "上级节点"), "wh-nowhere")
    tree.cell(m_row, _find(tree, "标题"), "改过的标题")  # would be written if the rest were fine
    before = counts()

    report = import_xlsx(_save(wb), "broken.xlsx")
    assert not report.ok and not report.plans
    messages = [str(e) for e in report.errors]
    k, s = _letter(inds, "四星值"), _letter(inds, "责任部门（首位牵头）")
    due, lead = _letter(tree, "截止日期"), _letter(tree, "部门（首位牵头）")
    parent = _letter(tree, "上级节点")
    assert f"broken.xlsx: 指标!{k}{i_row}: 四星值 “八十” 不是数字" in messages
    assert f"broken.xlsx: 任务与里程碑!{due}{m_row}: 截止日期 “2021-02-30” 不是日期（YYYY-MM-DD）" in messages
    assert any(m.startswith(f"broken.xlsx: 指标!{s}{i_row}: ") and "不存在局" in m for m in messages)
    assert any(m.startswith(f"broken.xlsx: 任务与里程碑!{lead}{m_row}: ") and "无名办" in m for m in messages)
    p_row = _row(tree, "wh-p01-2022")
    assert f"broken.xlsx: 任务与里程碑!{parent}{p_row}: 上级节点 “wh-nowhere” 不是节点的键" in messages
    db.session.remove()
    assert counts() == before

    path = tmp_path / "broken.xlsx"
    path.write_bytes(_save(wb))
    result = run(app, "import-xlsx", path)
    assert result.exit_code == 2
    assert f"{path}: 指标!{k}{i_row}: 四星值 “八十” 不是数字" in result.stderr
    assert "nothing was loaded" in result.stderr and result.stdout == ""
    db.session.remove()
    assert counts() == before


def test_missing_sheet_and_column(ctx):
    assert load_files([ZHANGQIU]).ok
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("zhangqiu-3n")))
    del wb["依赖关系"]
    inds = wb["指标"]
    inds.cell(1, _find(inds, "四星期限"), "期限")
    data, errors = check_xlsx(_save(wb), "z.xlsx")
    messages = [str(e) for e in errors]
    assert "z.xlsx: 依赖关系: 缺少工作表 “依赖关系”" in messages
    assert "z.xlsx: 指标!1: 缺少列 “四星期限”" in messages
    assert len(messages) == 2  # the schema is not asked about a workbook missing parts
    before = counts()
    assert not import_xlsx(_save(wb), "z.xlsx").ok
    assert counts() == before


def test_not_a_workbook():
    data, errors = xlsx_to_plan(b"not a zip", "junk.xlsx")
    assert data is None and len(errors) == 1
    assert str(errors[0]).startswith("junk.xlsx: (文件): 无法读取 Excel 文件")


def test_schema_errors_are_located(ctx):
    assert load_files([ZHANGQIU]).ok
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("zhangqiu-3n")))
    deps, inds = wb["依赖关系"], wb["指标"]
    deps.cell(2, _find(deps, "后续里程碑"), "zq-none")
    inds.cell(3, _find(inds, "四星运算"), "≥")
    _, errors = check_xlsx(_save(wb), "z.xlsx")
    refs = {e.path for e in errors}
    assert f"依赖关系!{_letter(deps, '后续里程碑')}2" in refs
    assert f"指标!{_letter(inds, '四星运算')}3" in refs
    assert all("!" in e.path for e in errors)


def test_download_route(client, app):
    with app.app_context():
        build_world()
    login(client, "office")
    page = client.get("/plans/plan-a").get_data(as_text=True)
    assert "/plans/plan-a/export.xlsx" in page and "导出 Excel" in page
    response = client.get("/plans/plan-a/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "plan-a.xlsx" in response.headers["Content-Disposition"]
    assert "attachment" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == SHEETS
    assert [r[1] for r in wb["任务与里程碑"].iter_rows(min_row=2, values_only=True)][0] == "n1"

    login(client, "leader")
    assert client.get("/plans/plan-a/export.xlsx").status_code == 200
    login(client, "other_office")
    assert client.get("/plans/plan-a/export.xlsx").status_code == 404
    assert client.get("/plans/plan-b/export.xlsx").status_code == 200
    login(client, "police")
    assert client.get("/plans/plan-a/export.xlsx").status_code == 403  # as the plan page


def _cells(ws, key: str) -> dict:
    row = _row(ws, key)
    return {c.value: ws.cell(row, c.column).value for c in ws[1]}


def test_parts_conditions_links_and_deliveries_in_the_workbook(ctx):
    assert load_files([WEIHAI]).ok
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("weihai-1313")))
    bus = _cells(wb["指标"], "wh-i04")
    assert bus["分项"] == "realtime=公共汽电车来车实时预报率|%; stops=公交电子站牌覆盖率|%"
    assert (bus["四星分项"], bus["四星附加条件"], bus["五星附加条件"]) == (
        "realtime",
        "stops>=10",
        "stops>20",
    )
    link = (bus["标准指标"], bus["标准指标名称"], bus["标准单位"], bus["标准分项"])
    assert link == ("14", "公交电子站牌覆盖率", "%", "stops")
    rules = _cells(wb["指标"], "wh-i40")  # a level-only link: no unit
    assert (rules["标准指标"], rules["标准指标名称"], rules["标准单位"]) == ("40", "制度机制", None)
    cloud = _cells(wb["指标"], "wh-i22")  # not linked
    assert (cloud["标准指标"], cloud["标准指标名称"], cloud["分项"]) == (None, None, None)
    sharing = _cells(wb["任务与里程碑"], "wh-p07-2020")
    assert sharing["目标"] == "数据共享水平>=90% → wh-i17; 数据开放水平>=90% → wh-i18"
    data, errors = check_xlsx(_save(wb), "w.xlsx")
    assert errors == []
    bus = next(i for i in data["indicators"] if i["key"] == "wh-i04")
    assert bus["four_star"]["and"] == [{"part": "stops", "op": ">=", "value": 10}]
    assert bus["standard"] == {
        "indicator": "14",
        "quantity": "公交电子站牌覆盖率",
        "unit": "%",
        "part": "stops",
    }


def test_a_count_to_rate_link_in_a_workbook_is_refused_at_its_cell(ctx):
    assert load_files([WEIHAI]).ok
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("weihai-1313")))
    inds = wb["指标"]
    row = _row(inds, "wh-i22")
    for header, value in (("标准指标", "33"), ("标准指标名称", "企业上云率"), ("标准单位", "家")):
        inds.cell(row, _find(inds, header), value)
    bus = _row(inds, "wh-i04")
    inds.cell(bus, _find(inds, "分项"), "realtime 公共汽电车来车实时预报率")
    inds.cell(bus, _find(inds, "五星附加条件"), "stops 超过 20")
    before = counts()
    report = import_xlsx(_save(wb), "w.xlsx")
    assert not report.ok
    messages = [str(e) for e in report.errors]
    unit = _letter(inds, "标准单位")
    assert (
        f"w.xlsx: 指标!{unit}{row}: 标准单位: 家 is not the unit % of sd-city-2019 indicator 33 (企业上云率) "
        "[indicators[21].standard.unit]" in messages
    )
    parts, more = _letter(inds, "分项"), _letter(inds, "五星附加条件")
    assert any(
        m.startswith(f"w.xlsx: 指标!{parts}{bus}: 分项 “realtime 公共汽电车来车实时预报率” 无法解析")
        for m in messages
    )
    assert any(
        m.startswith(f"w.xlsx: 指标!{more}{bus}: 五星附加条件 “stops 超过 20” 无法解析") for m in messages
    )
    db.session.remove()
    assert counts() == before
