"""Input checked at the edge: ids in URLs, integer query and form parameters, JSON bodies.

The integer primary keys are 32-bit on PostgreSQL (int4), so a larger id can name
no row: in a URL it answers 404, in a query string or form body 400 with a
Chinese message naming the parameter, before SQLite (OverflowError) or
PostgreSQL (out of range) sees it. String parts of a URL (`<code>`) with control
characters answer 404 (PostgreSQL refuses NUL in text).
"""

from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from app.engines.limits import json_depth

MAX_ID = 2**31 - 1  # int4, the type of every integer primary key on PostgreSQL
MAX_PAGE = 100_000
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
# C0 controls but tab, LF and CR; DEL and C1; the bidi embeddings, overrides and isolates.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_INT_RE = re.compile(r"-?[0-9]{1,10}")
_JSON_TYPES = ("application/json", "+json")


class BadParam(BadRequest):
    """A 400 whose `description` is a Chinese message for the user (app.errors shows it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.user_message = message


class IdConverter(IntegerConverter):
    """`<int:...>` restricted to ASCII digits and the 32-bit range of the primary keys (else 404)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        if len(value) > 10:  # a 25-digit id is no row; don't build the big number
            raise ValidationError()
        return super().to_python(value)


class TextConverter(UnicodeConverter):
    """`<code>` and other string parts of a URL: no control characters (PostgreSQL refuses NUL), 404."""

    def to_python(self, value: str) -> str:
        if has_control(value):
            raise ValidationError()
        return value


def has_control(text: str) -> bool:
    return bool(FORBIDDEN.search(text))


def parse_int(raw, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`raw` as an int within [low, high], or None (ASCII digits only: "²" and "１" are refused)."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if not _INT_RE.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def int_arg(
    name: str,
    *,
    low: int = 1,
    high: int = MAX_ID,
    default=None,
    label: str | None = None,
    source=None,
    strict=True,
):
    """The integer query parameter `name` (or from `source`, e.g. request.form):
    `default` when absent or blank, BadParam (400, Chinese) when not an integer in [low, high]
    (`strict=False`: `default` then too, for filters whose bad values are ignored)."""
    args = request.args if source is None else source
    raw = args.get(name)
    if raw is None or not str(raw).strip():
        return default
    value = parse_int(raw, low=low, high=high)
    if value is None and not strict:
        return default
    if value is None:
        shown = str(raw)[:40]
        raise BadParam(f"参数“{label or name}”的值“{shown}”无效：应为 {low} 到 {high} 之间的整数。")
    return value


def form_id(raw) -> int | None:
    """An id posted in a form (a hidden field, a select's value): an int in the id range, or None."""
    return parse_int(raw, low=1, high=MAX_ID)


def check_json_body() -> None:
    """Refuse a JSON body that is too large or too deeply nested before anything parses it."""
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        return
    length = request.content_length
    if length is not None and length > MAX_JSON_BYTES:
        raise BadParam(f"JSON 内容超过 {MAX_JSON_BYTES // 1024} KB 上限。")
    data = request.get_data(cache=True)
    if len(data) > MAX_JSON_BYTES:
        raise BadParam(f"JSON 内容超过 {MAX_JSON_BYTES // 1024} KB 上限。")
    if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadParam(f"JSON 嵌套层数超过 {MAX_JSON_DEPTH} 层上限。")


def init_app(app) -> None:
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    app.before_request(check_json_body)
