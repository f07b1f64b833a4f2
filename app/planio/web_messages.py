"""The plan checker's problems as the web page shows them: in Chinese, at sheet, row and column.

Cell problems (excel_read.py) are Chinese already; the schema's (schema.py, checker.py)
are English, and are translated here pattern by pattern. A problem no pattern knows is
shown as it is, still at its cell.
"""

import re

from app.planio.excel import REF
from app.planio.reader import PlanError

KINDS = {"str": "文本", "int": "整数", "number": "数字", "bool": "是/否", "list": "列表", "map": "映射"}

PATTERNS = [
    (r"missing", lambda m: "必须填写"),
    (r"must not be null", lambda m: "不能为空"),
    (r"empty", lambda m: "不能为空"),
    (r"unknown field", lambda m: "不是可用的字段"),
    (r"expected (\w+), got \w+ (.*)", lambda m: f"应为{KINDS.get(m[1], m[1])}，实际为 {m[2]}"),
    (r"(.*) is not one of (.*)", lambda m: f"{m[1]} 不是可选值（{m[2]}）之一"),
    (r"(.*) is not a key of \[a-z0-9-\]", lambda m: f"{m[1]} 不是有效的键（只能用小写字母、数字和连字符）"),
    (r"longer than (\d+) characters", lambda m: f"超过 {m[1]} 个字符"),
    (r"invalid date (.*?): .*", lambda m: f"{m[1]} 不是有效日期"),
    (r"expected an ISO date YYYY-MM-DD, got (.*)", lambda m: f"应为日期（YYYY-MM-DD），实际为 {m[1]}"),
    (r"department (.*) is not listed in departments", lambda m: f"部门 {m[1]} 未列在“部门”工作表中"),
    (r"department (.*) named twice", lambda m: f"部门 {m[1]} 填了两次"),
    (r"needs at least one department", lambda m: "至少填写一个部门"),
    (r"duplicate (.*?) (\S+) \(first at (.*)\)", lambda m: f"{m[2]} 重复（{m[1]}，首次出现在 {m[3]}）"),
    (r"unknown indicator (.*)", lambda m: f"指标 {m[1]} 不存在"),
    (r"indicator (.*) named twice", lambda m: f"指标 {m[1]} 填了两次"),
    (r"(.*) is already the lead department", lambda m: f"{m[1]} 已是牵头部门，不能再作配合部门"),
    (r"(.*) is not in the milestone's indicators", lambda m: f"{m[1]} 不在该里程碑的关联指标中"),
    (r"(.*) is before the start (.*)", lambda m: f"结束日期 {m[1]} 早于起始日期 {m[2]}"),
    (r"(.*) cannot depend on itself", lambda m: f"{m[1]} 不能依赖自身"),
    (r"dependency cycle (.*) \(from .*\)", lambda m: f"依赖关系形成循环：{m[1]}"),
    (r"an inferred dependency needs a one-line reason", lambda m: "推断的依赖须填写一行理由"),
    (r"must be one line", lambda m: "只能填一行"),
    (r"no file plans/standards/(.*)\.yaml", lambda m: f"考核标准 {m[1]} 不存在"),
    (r"negative weight (.*)", lambda m: f"权重 {m[1]} 不能为负数"),
]
PROBLEM = re.compile(r"^(?:(?P<header>[^:\[]+): )?(?P<problem>.*?)(?: \[(?P<path>[^ ]*)\])?$", re.S)


def translate(problem: str) -> str:
    for pattern, make in PATTERNS:
        m = re.fullmatch(pattern, problem)
        if m:
            return make(m)
    return problem


def place(ref: str) -> str:
    """`指标!K12` → 工作表“指标”第 12 行 K 列."""
    if ref == "(文件)":
        return "文件"
    m = REF.match(ref)
    if m is None:
        return ref
    out = f"工作表“{m['sheet']}”"
    if m["row"]:
        out += f"第 {m['row']} 行"
    if m["col"]:
        out += f" {m['col']} 列"
    return out


def message(error: PlanError) -> str:
    m = PROBLEM.match(error.problem)
    header, problem = (m["header"], m["problem"]) if m else (None, error.problem)
    text = translate(problem)
    return f"{place(error.path)}：{header + ' ' if header else ''}{text}"
