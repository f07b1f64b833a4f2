"""Read a plan file into plain data, keeping dates as text and noting duplicate keys.

PyYAML would turn 2021-02-30 into an exception that stops the whole file and would
let a repeated mapping key silently win; here both become ordinary errors.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class PlanError:
    file: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.problem}"


# libyaml's parser when PyYAML was built with it: a plan of 6,000 milestones parses
# in about a second instead of twenty; constructing and the checks below are the same.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, object]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen and key != "<<":
                self.duplicates.append((key_node.start_mark.line + 1, key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Without the timestamp resolver a date stays a string; the schema checks it.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MAX_DEPTH = 64  # a plan file nests nodes a few levels; anything near this is not a plan
MAX_VALUES = 1_000_000  # a plan of 6,000 milestones holds about 100,000


def _shape_problem(data) -> str | None:
    """Too deep for the checks (which recurse), or too many values once aliases are
    expanded (nine anchors of nine aliases each are 9**9 values: the checks would never end)."""
    stack, count = [(data, 0)], 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return f"more than {MAX_VALUES:,} values (aliases expand too far)"
        if depth > MAX_DEPTH:
            return "nested too deeply"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def read_plan(path) -> tuple[object, list[PlanError]]:
    """The parsed file (None if unreadable) and the errors found while reading it."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [PlanError(name, "(file)", f"cannot read: {exc}")]
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"(line {mark.line + 1})" if mark else "(yaml)"
        return None, [PlanError(name, where, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
    except RecursionError:
        return None, [PlanError(name, "(yaml)", "invalid YAML: nested too deeply")]
    finally:
        loader.dispose()
    problem = _shape_problem(data)  # libyaml parses any depth; the checks after it recurse
    if problem:
        return None, [PlanError(name, "(yaml)", f"invalid YAML: {problem}")]
    errors = [PlanError(name, f"(line {line})", f"duplicate key {key!r}") for line, key in loader.duplicates]
    return data, errors
