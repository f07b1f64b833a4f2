"""Read the Excel layout (excel_layout.py) back into plan-file data, sheet by sheet.

The result is what the plan's YAML file parses to (dates as ISO text), so the
schema and the loader take it as they are. Problems are collected, never raised.
"""

import io

from openpyxl import load_workbook

from app.planio import excel_layout as L
from app.planio.excel_cells import Book, Row
from app.planio.reader import PlanError

MILESTONE_ONLY = ("due", "co", "source", "targets", "indicators")
TRUE_STAR = (L.STAR, "☆", "*", L.YES, "true", "True")


def _set(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _plan(book: Book, rows: list[Row], present: bool) -> dict:
    data: dict = {}
    labels = dict(L.PLAN_ROWS)
    seen, targets = set(), []
    for row in rows:
        label = (row.text("label") or "").strip()
        stars = L.TARGET_LABEL.match(label)
        if stars:
            book.where[f"targets[{len(targets)}]"] = (
                L.PLAN,
                row.line,
                {"stars": row.columns["label"], "due": row.columns["value"]},
            )
            targets.append({"stars": int(stars[1]), "due": row.date("value")})
        elif label not in labels:
            row.err("label", f"“{label}” 不是计划的字段")
        elif labels[label] in seen:
            row.err("label", f"“{label}” 重复")
        else:
            path = labels[label]
            seen.add(path)
            value = row.date("value") if path in L.PLAN_DATES else row.text("value")
            if path == "region.kind" and value is not None:
                value = L.label_to_code(value.strip(), L.REGION_KIND_LABELS)
            _set(data, path, value)
            book.where[path] = (L.PLAN, row.line, {"": (row.columns["value"][0], label)})
    if present:
        for label, path in L.PLAN_ROWS:
            if path not in seen:
                book.structural = True
                book.err(L.PLAN, f"缺少 “{label}” 行")
    data["targets"] = targets
    return data


def _departments(book: Book, rows: list[Row]) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        book.where[f"departments[{i}]"] = (L.DEPTS, row.line, row.columns)
        out.append({"name": row.text("name"), "kind": row.kind("kind", L.DEPARTMENT_KIND_LABELS)})
    return out


def _node(row: Row) -> dict:
    for field in MILESTONE_ONLY:
        if row.raw(field) is not None:
            row.err(field, "只用于里程碑，节点行应留空")
    node = {"key": row.text("key"), "kind": row.kind("kind", L.NODE_KIND_LABELS)}
    node |= {"number": row.text("number"), "title": row.text("title"), "text": row.text("text")}
    departments = row.names("departments")
    if departments:
        node["departments"] = departments
    return node


def _milestone(row: Row) -> dict:
    for field in ("kind", "number"):
        if row.raw(field) is not None:
            row.err(field, "只用于节点，里程碑行应留空")
    lead = row.names("departments")
    if len(lead) > 1:
        row.err("departments", "里程碑只填一个牵头部门，其余填在配合部门")
    ms = {
        "key": row.text("key"),
        "title": row.text("title"),
        "text": row.text("text"),
        "due": row.date("due"),
    }
    ms |= {"lead": lead[0] if lead else None, "co": row.names("co"), "source": row.text("source")}
    text = row.text("targets")
    if text:
        targets = L.parse_targets(text)
        if targets is None:
            row.err("targets", f"“{text}” 无法解析（应为 指标>=数值单位; … 或 JSON 列表）")
        else:
            ms["targets"] = targets
    indicators = row.names("indicators")
    if indicators:
        ms["indicators"] = indicators
    return ms


def _tree(book: Book, rows: list[Row]) -> list[dict]:
    nodes: dict[str, tuple[dict, Row]] = {}
    milestones: list[tuple[dict, Row]] = []
    for row in rows:
        kind = (row.text("type") or "").strip()
        if kind not in (L.NODE, L.MILESTONE):
            row.err("type", f"“{kind}” 应为 {L.NODE} 或 {L.MILESTONE}")
            continue
        item = _node(row) if kind == L.NODE else _milestone(row)
        key = item["key"]
        if key is None:
            row.err("key", "不能为空")
        elif key in nodes or any(key == m["key"] for m, _ in milestones):
            row.err("key", f"“{key}” 重复")
        elif kind == L.NODE:
            nodes[key] = (item, row)
        else:
            milestones.append((item, row))
    roots = []
    for node, row in nodes.values():
        parent = row.text("parent")
        if parent is None:
            roots.append(node)
        elif parent in nodes:
            nodes[parent][0].setdefault("children", []).append(node)
        else:
            row.err("parent", f"“{parent}” 不是节点的键")
    for ms, row in milestones:
        parent = row.text("parent")
        if parent in nodes:
            nodes[parent][0].setdefault("milestones", []).append(ms)
        else:
            row.err("parent", "里程碑须填所属节点的键" if parent is None else f"“{parent}” 不是节点的键")
    rows_of = {id(item): row for item, row in [*nodes.values(), *milestones]}
    seen: set[str] = set()

    def walk(items: list[dict], path: str) -> None:
        for i, node in enumerate(items):
            seen.add(node["key"])
            row = rows_of[id(node)]
            book.where[f"{path}[{i}]"] = (L.TREE, row.line, row.columns)
            for j, ms in enumerate(node.get("milestones") or []):
                ms_row = rows_of[id(ms)]
                columns = ms_row.columns | {"lead": ms_row.columns["departments"]}
                book.where[f"{path}[{i}].milestones[{j}]"] = (L.TREE, ms_row.line, columns)
            walk(node.get("children") or [], f"{path}[{i}].children")

    walk(roots, "nodes")
    for key, (_, row) in nodes.items():
        if key not in seen and row.text("parent") in nodes:
            row.err("parent", f"上级节点形成循环（{key}）")
    return roots


def _band(row: Row, band: str) -> dict | None:
    fields = ("target", "op", "value", "part", "and", "due")
    if all(row.raw(f"{band}.{f}") is None for f in fields):
        return None
    op = row.text(f"{band}.op")
    cell = {
        "target": row.text(f"{band}.target"),
        "op": op.strip() if op else None,
        "value": row.number(f"{band}.value"),
        "due": row.date(f"{band}.due"),
    }
    part = row.text(f"{band}.part")
    if part is not None:
        cell["part"] = part.strip()
    text = row.text(f"{band}.and")
    if text:
        conditions = L.parse_conditions(text)
        if conditions is None:
            row.err(f"{band}.and", f"“{text}” 无法解析（应为 分项键>=数值; … 或 JSON 列表）")
        else:
            cell["and"] = conditions
    return cell


def _link(row: Row) -> dict | None:
    """The link to the standard: null when its four cells are empty."""
    fields = ("indicator", "quantity", "unit", "part")
    if all(row.raw(f"standard.{f}") is None for f in fields):
        return None
    link = {f: row.text(f"standard.{f}") for f in ("indicator", "quantity", "unit")}
    part = row.text("standard.part")
    if part is not None:
        link["part"] = part.strip()
    return link


def _indicators(book: Book, rows: list[Row]) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        book.where[f"indicators[{i}]"] = (L.INDS, row.line, row.columns)
        ind = {f: row.text(f) for f in ("key", "table", "category", "number", "name", "definition", "unit")}
        text = row.text("parts")
        if text:
            parts = L.parse_parts(text)
            if parts is None:
                row.err("parts", f"“{text}” 无法解析（应为 键=名称|单位; … 或 JSON 列表）")
            else:
                ind["parts"] = parts
        ind["star"] = row.flag("star", TRUE_STAR)
        for band in L.BANDS:
            ind[band] = _band(row, band)
        for band in L.BANDS:
            ind[f"weight_{band}"] = row.number(f"weight_{band}")
        ind["departments"] = row.names("departments")
        ind["standard"] = _link(row)
        out.append(ind)
    return out


def _dependencies(book: Book, rows: list[Row]) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        book.where[f"dependencies[{i}]"] = (L.DEPS, row.line, row.columns)
        dep = {"predecessor": row.text("predecessor"), "successor": row.text("successor")}
        dep["lag_days"] = row.number("lag_days", whole=True) or 0
        dep["inferred"] = row.flag("inferred", (L.YES, "true", "True"))
        dep["reason"] = row.text("reason")
        out.append(dep)
    return out


def source_name(source, filename: str | None = None) -> str:
    if filename is not None:
        return filename
    return "<xlsx>" if isinstance(source, bytes | bytearray) else str(getattr(source, "name", source))


def read_xlsx(source, filename: str | None = None) -> tuple[dict | None, Book]:
    """Plan data from a workbook (bytes, file object or path) and the Book that
    holds the cell errors and where each schema path sits."""
    book = Book(source_name(source, filename))
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
        wb = load_workbook(stream, data_only=True)
    except Exception as exc:  # not a zip, not a workbook, unreadable: all the same to the user
        book.structural = True
        book.err("(文件)", f"无法读取 Excel 文件：{exc}")
        return None, book
    data = _plan(book, book.rows(wb, L.PLAN), L.PLAN in wb.sheetnames)
    data["departments"] = _departments(book, book.rows(wb, L.DEPTS))
    data["nodes"] = _tree(book, book.rows(wb, L.TREE))
    data["dependencies"] = _dependencies(book, book.rows(wb, L.DEPS))
    data["indicators"] = _indicators(book, book.rows(wb, L.INDS))
    return data, book


def xlsx_to_plan(source, filename: str | None = None) -> tuple[dict | None, list[PlanError]]:
    """Plan-file data from a workbook and the problems found in its cells."""
    data, book = read_xlsx(source, filename)
    return data, book.errors
