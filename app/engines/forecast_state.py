"""The forecast's input: a state, everything known on `as_of` (shared/spec/forecast.md).

parse_state(raw) checks a JSON-like state and returns a State; a bad state
raises StateError with one line naming the item and field, e.g.
``milestones[2] (m3).predecessors[0].id: unknown milestone 'm9'``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from app.engines.scoring import ScoringError, score
from app.engines.standards import STAR_LEVELS, available_codes, load_standard

DEFAULT_SAMPLES = 10000
DEFAULT_SEED = 20211031
MAX_SAMPLES = 200_000
TOP = {"standard", "as_of", "target_date", "target_stars", "samples", "seed", "milestones", "indicators"}
MILESTONE = {"id", "department", "start", "due", "finished", "percent", "predecessors", "delivers", "title"}


class StateError(ValueError):
    """A state the engine cannot use; the message names the item and field."""


@dataclass(frozen=True)
class Delivery:
    indicator: str  # standard number
    value: object  # input form of scoring.md, or None: linked without a declared value


@dataclass(frozen=True)
class Milestone:
    id: str
    department: str
    due: date
    start: date | None = None
    finished: date | None = None
    percent: float = 0.0
    predecessors: tuple = ()  # ((id, lag_days), ...)
    delivers: tuple = ()  # (Delivery, ...)
    title: str | None = None

    @property
    def done(self) -> bool:
        return self.finished is not None


@dataclass(frozen=True)
class State:
    standard: dict  # the loaded standard
    as_of: date
    target_date: date
    target_stars: int
    samples: int
    seed: int
    milestones: tuple  # (Milestone, ...), input order
    indicators: dict = field(default_factory=dict)  # number -> ((date, value), ...) oldest first

    @property
    def code(self) -> str:
        return self.standard["code"]


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


class _Reader:
    def __init__(self, as_of=None):
        self.as_of = as_of

    @staticmethod
    def fail(where, problem):
        raise StateError(f"{where}: {problem}")

    def objects(self, obj, key, where, shape, bare=None):
        """(path, item) of a list of objects (a missing list is empty); `bare`: the key a
        plain string or number stands for (a predecessor given as its id)."""
        items = obj.get(key) or []
        if not isinstance(items, list):
            self.fail(f"{where}.{key}", f"must be a list, got {items!r}")
        for j, item in enumerate(items):
            path = f"{where}.{key}[{j}]"
            if bare and isinstance(item, str | int) and not isinstance(item, bool):
                item = {bare: item}
            if not isinstance(item, dict):
                self.fail(path, f"must be an object {shape}, got {item!r}")
            yield path, item

    def date(self, obj, key, where, null=False, not_after_as_of=False):
        if key not in obj:
            if null:
                return None
            self.fail(f"{where}.{key}" if where else key, "missing")
        raw = obj[key]
        path = f"{where}.{key}" if where else key
        if raw is None:
            if null:
                return None
            self.fail(path, "must be a date YYYY-MM-DD, got null")
        if not isinstance(raw, str):
            self.fail(path, f"must be a date YYYY-MM-DD, got {raw!r}")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            self.fail(path, f"must be a date YYYY-MM-DD, got {raw!r}")
        if not_after_as_of and self.as_of is not None and day > self.as_of:
            self.fail(path, f"{day} is after as_of {self.as_of}: the state holds what was known then")
        return day


def _standard(raw):
    if not isinstance(raw, str) or raw not in available_codes():
        raise StateError(f"standard: unknown standard {raw!r}")
    std = load_standard(raw)
    if std.get("level") not in STAR_LEVELS:
        raise StateError(f"standard: {raw!r} is not a star standard")
    return std


def _value(std, number, value, where):
    try:
        score(std, {number: value})
    except ScoringError as exc:
        raise StateError(f"{where}: {exc}") from None
    return value


def _milestone(r: _Reader, raw, i, std, numbers):
    where = f"milestones[{i}]"
    if not isinstance(raw, dict):
        r.fail(where, f"must be an object, got {raw!r}")
    mid = raw.get("id")
    if not (isinstance(mid, str) and mid) and not _is_int(mid):
        r.fail(f"{where}.id", f"must be a non-empty string or a whole number, got {mid!r}")
    mid = str(mid)
    where = f"{where} ({mid})"
    unknown = sorted(set(raw) - MILESTONE)
    if unknown:
        r.fail(where, f"unknown field {unknown[0]!r}")
    dept = raw.get("department")
    if dept is not None and not isinstance(dept, str | int):
        r.fail(f"{where}.department", f"must be a string, got {dept!r}")
    due = r.date(raw, "due", where)
    start = r.date(raw, "start", where, null=True)
    if start is not None and start > due:
        r.fail(f"{where}.start", f"{start} is after the due date {due}")
    finished = r.date(raw, "finished", where, null=True, not_after_as_of=True)
    percent = raw.get("percent", 100 if finished else 0)
    if percent is None:
        percent = 100 if finished else 0
    if not _is_number(percent) or not 0 <= percent <= 100:
        r.fail(f"{where}.percent", f"must be a number from 0 to 100, got {percent!r}")
    pred_items = []
    for pw, p in r.objects(raw, "predecessors", where, "{id, lag_days}", bare="id"):
        pid = p.get("id")
        if not (isinstance(pid, str) and pid) and not _is_int(pid):
            r.fail(f"{pw}.id", f"must be a milestone id, got {pid!r}")
        lag = p.get("lag_days", 0)
        lag = 0 if lag is None else lag
        if not _is_int(lag) or abs(lag) > 3650:
            r.fail(f"{pw}.lag_days", f"must be a whole number of days (|lag| <= 3650), got {lag!r}")
        pred_items.append((str(pid), lag))
    items = []
    for dw, d in r.objects(raw, "delivers", where, "{indicator, value}"):
        number = d.get("indicator")
        number = str(number) if _is_int(number) else number
        if not isinstance(number, str) or number not in numbers:
            r.fail(f"{dw}.indicator", f"{std['code']} has no indicator {number!r}")
        value = d.get("value")
        if value is not None:
            _value(std, number, value, f"{dw}.value")
        items.append(Delivery(number, value))
    title = raw.get("title")
    return Milestone(
        id=mid,
        department=str(dept) if dept is not None else "",
        due=due,
        start=start,
        finished=finished,
        percent=float(percent),
        predecessors=tuple(pred_items),
        delivers=tuple(items),
        title=title if isinstance(title, str) else None,
    )


def _check_graph(milestones):
    ids = {}
    for i, m in enumerate(milestones):
        if m.id in ids:
            raise StateError(f"milestones[{i}] ({m.id}).id: duplicate of milestones[{ids[m.id]}]")
        ids[m.id] = i
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    for i, m in enumerate(milestones):
        for j, (pid, _) in enumerate(m.predecessors):
            where = f"milestones[{i}] ({m.id}).predecessors[{j}].id"
            if pid not in ids:
                raise StateError(f"{where}: unknown milestone {pid!r}")
            if pid == m.id:
                raise StateError(f"{where}: a milestone cannot precede itself")
            g.add_edge(pid, m.id)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    names = [u for u, _ in cycle] + [cycle[0][0]]
    first = cycle[-1][1]
    raise StateError(f"milestones[{ids[first]}] ({first}).predecessors: cycle {' → '.join(names)}")


def _indicators(r: _Reader, raw, std, numbers):
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        r.fail("indicators", f"must be an object mapping standard numbers to measurements, got {raw!r}")
    out = {}
    for key, series in raw.items():
        where = f"indicators[{key!r}]"
        if key not in numbers:
            r.fail(where, f"{std['code']} has no indicator {key!r}")
        if not isinstance(series, list):
            r.fail(where, f"must be a list of {{date, value}}, got {series!r}")
        rows = []
        for j, item in enumerate(series):
            iw = f"{where}[{j}]"
            if not isinstance(item, dict):
                r.fail(iw, f"must be an object {{date, value}}, got {item!r}")
            day = r.date(item, "date", iw, not_after_as_of=True)
            if "value" not in item or item["value"] is None:
                r.fail(f"{iw}.value", "missing")
            rows.append((day, j, _value(std, key, item["value"], f"{iw}.value")))
        rows.sort(key=lambda x: (x[0], x[1]))  # by date; equal dates keep their order
        if rows:
            out[key] = tuple((d, v) for d, _, v in rows)
    return out


def parse_state(raw, *, samples: int | None = None, seed: int | None = None) -> State:
    """A State from a JSON-like dict; raises StateError naming the item and field."""
    if not isinstance(raw, dict):
        raise StateError(f"state: must be an object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - TOP)
    if unknown:
        raise StateError(f"{unknown[0]}: unknown field")
    std = _standard(raw.get("standard"))
    r = _Reader()
    as_of = r.date(raw, "as_of", "")
    target = r.date(raw, "target_date", "")
    r.as_of = as_of
    stars = raw.get("target_stars", 4)
    if not _is_int(stars) or not 1 <= stars <= 5:
        r.fail("target_stars", f"must be a whole number from 1 to 5, got {stars!r}")
    n = raw.get("samples", DEFAULT_SAMPLES) if samples is None else samples
    if not _is_int(n) or not 1 <= n <= MAX_SAMPLES:
        r.fail("samples", f"must be a whole number from 1 to {MAX_SAMPLES}, got {n!r}")
    s = raw.get("seed", DEFAULT_SEED) if seed is None else seed
    if not _is_int(s) or s < 0:
        r.fail("seed", f"must be a non-negative whole number, got {s!r}")
    numbers = {ind["number"] for ind in std["indicators"]}
    ms = raw.get("milestones") or []
    if not isinstance(ms, list):
        r.fail("milestones", f"must be a list, got {ms!r}")
    milestones = tuple(_milestone(r, m, i, std, numbers) for i, m in enumerate(ms))
    _check_graph(milestones)
    return State(
        standard=std,
        as_of=as_of,
        target_date=target,
        target_stars=stars,
        samples=n,
        seed=s,
        milestones=milestones,
        indicators=_indicators(r, raw.get("indicators"), std, numbers),
    )


def header(state: State) -> dict:
    """The state's scalar fields in their JSON form (the forecast's output starts with them)."""
    return {
        "standard": state.code,
        "as_of": state.as_of.isoformat(),
        "target_date": state.target_date.isoformat(),
        "target_stars": state.target_stars,
        "samples": state.samples,
        "seed": state.seed,
    }


def dump_state(state: State) -> dict:
    """The JSON form of a State (parse_state(dump_state(s)) == s)."""
    return {
        **header(state),
        "milestones": [
            {
                "id": m.id,
                **({"title": m.title} if m.title else {}),
                "department": m.department,
                "start": m.start.isoformat() if m.start else None,
                "due": m.due.isoformat(),
                "finished": m.finished.isoformat() if m.finished else None,
                "percent": int(m.percent) if m.percent == int(m.percent) else m.percent,
                "predecessors": [{"id": p, "lag_days": lag} for p, lag in m.predecessors],
                "delivers": [{"indicator": d.indicator, "value": d.value} for d in m.delivers],
            }
            for m in state.milestones
        ],
        "indicators": {
            number: [{"date": d.isoformat(), "value": v} for d, v in rows]
            for number, rows in state.indicators.items()
        },
    }
