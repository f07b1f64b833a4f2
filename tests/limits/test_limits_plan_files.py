"""The plan file (YAML) and the Excel workbook obey the same bounds as the forms: each
refusal names the file and the place (path, or sheet/row/column), and nothing is written."""

import copy
import io

import openpyxl
import pytest

from app.planio.excel import check_xlsx, plan_to_xlsx
from app.planio.loader import load_files
from app.planio.schema import validate
from tests.planio.helpers import WEIHAI, ZHANGQIU, counts, milestones_of, read, write_copy


def run(app, *args):
    return app.test_cli_runner().invoke(args=["plans", *map(str, args)])


def _problems(data) -> dict[str, str]:
    return {e.path: e.problem for e in validate(data, "plan.yaml")}


def test_the_real_plans_are_within_bounds():
    for path in (WEIHAI, ZHANGQIU):
        assert validate(read(path), str(path)) == []


def test_negative_or_huge_lag_is_refused_as_in_the_web_form():
    data = read(WEIHAI)
    data["dependencies"][0]["lag_days"] = -3
    data["dependencies"][1]["lag_days"] = 366
    data["dependencies"][2]["lag_days"] = 365
    problems = _problems(data)
    assert problems["dependencies[0].lag_days"] == "间隔天数应在 0 到 365 之间，收到 -3。"
    assert problems["dependencies[1].lag_days"] == "间隔天数应在 0 到 365 之间，收到 366。"
    assert "dependencies[2].lag_days" not in problems


def test_due_dates_outside_the_plan_period_and_margin():
    data = read(WEIHAI)  # period 2020-01-01 … 2022-12-31
    ms = milestones_of(data)
    first, second = list(ms)[:2]
    ms[first]["due"] = "9999-12-31"
    ms[second]["due"] = "2023-12-31"  # a year past the end: allowed
    data["targets"][0]["due"] = "1999-12-31"
    data["indicators"][0]["four_star"]["due"] = "2030-01-01"
    problems = _problems(data)
    [(where, problem)] = [(w, p) for w, p in problems.items() if w.endswith(".due") and "milestones" in w]
    assert "9999年12月31日超出允许范围" in problem and "2020年1月1日至2023年12月31日" in problem
    assert "星级目标期限1999年12月31日超出允许范围" in problems["targets[0].due"]
    assert "指标目标期限2030年1月1日" in problems["indicators[0].four_star.due"]


def test_percent_values_and_non_finite_numbers():
    data = read(ZHANGQIU)
    inds = data["indicators"]
    percent = next(i for i, ind in enumerate(inds) if ind.get("unit") == "%" and not ind.get("parts"))
    other = next(i for i, ind in enumerate(inds) if ind.get("unit") not in ("%", None))
    data["indicators"][percent]["four_star"]["value"] = 101
    data["indicators"][percent]["five_star"]["value"] = 1e20
    data["indicators"][other]["four_star"]["value"] = float("inf")
    data["indicators"][other]["weight_four_star"] = float("nan")
    problems = _problems(data)
    assert "0 到 100" in problems[f"indicators[{percent}].four_star.value"]
    assert "收到 101" in problems[f"indicators[{percent}].four_star.value"]
    huge = problems[f"indicators[{percent}].five_star.value"]
    assert huge == "数值超出允许范围（绝对值不超过 1e+15），收到 1e+20。"
    assert "有限的数字" in problems[f"indicators[{other}].four_star.value"]
    assert "有限的数字" in problems[f"indicators[{other}].weight_four_star"]


def test_cli_refuses_a_bad_file_naming_it_and_writes_nothing(app, ctx, tmp_path):
    data = copy.deepcopy(read(WEIHAI))
    data["dependencies"][0]["lag_days"] = -1
    bad = write_copy(data, tmp_path / "bad-lag.yaml")
    result = run(app, "load", bad)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{bad}: dependencies[0].lag_days: 间隔天数应在 0 到 365 之间，收到 -1。" in result.stderr
    assert "Traceback" not in result.output and sum(counts().values()) == 0


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n", "null\n", "~\n"])
def test_an_empty_plan_file_is_an_error_not_a_traceback(app, ctx, tmp_path, text):
    empty = tmp_path / "empty.yaml"
    empty.write_text(text, encoding="utf-8")
    result = run(app, "load", empty)
    assert result.exit_code == 2, result.output
    assert f"{empty}: (top): the file is empty" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert sum(counts().values()) == 0


def test_cli_non_utf8_and_deep_yaml(app, ctx, tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("code: 章丘".encode("gbk"))
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    for path in (latin, deep):
        result = run(app, "load", path)
        assert result.exit_code == 2 and str(path) in result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert sum(counts().values()) == 0


def _cell(ws, header):
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value == header)
    return col


def test_excel_refuses_a_negative_lag_at_its_cell(app, ctx):
    assert load_files([WEIHAI]).ok
    before = counts()
    wb = openpyxl.load_workbook(io.BytesIO(plan_to_xlsx("weihai-1313")))
    deps = wb["依赖关系"]
    col = _cell(deps, "滞后天数")
    deps.cell(2, col).value = -5
    deps.cell(3, col).value = "inf"
    tree = wb["任务与里程碑"]
    due_col = _cell(tree, "截止日期")
    row = next(r for r in range(2, tree.max_row + 1) if tree.cell(r, due_col).value)
    tree.cell(row, due_col).value = "9999-12-31"
    buffer = io.BytesIO()
    wb.save(buffer)
    _, errors = check_xlsx(buffer.getvalue(), "bounds.xlsx")
    messages = [str(e) for e in errors]
    letter = openpyxl.utils.get_column_letter(col)
    due_letter = openpyxl.utils.get_column_letter(due_col)
    assert any(
        m.startswith(f"bounds.xlsx: 依赖关系!{letter}2: ") and "间隔天数应在 0 到 365 之间，收到 -5" in m
        for m in messages
    ), messages
    assert any(m.startswith(f"bounds.xlsx: 依赖关系!{letter}3: ") and "不是有限的数字" in m for m in messages)
    assert any(
        m.startswith(f"bounds.xlsx: 任务与里程碑!{due_letter}{row}: ") and "9999年12月31日超出允许范围" in m
        for m in messages
    ), messages
    assert counts() == before
