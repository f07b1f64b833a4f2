"""Rendered page sections kept per process while what they show stays the same.

A key names everything a section shows: the plan's content version with the date
(app.plans.content_version: bumped in the transaction of every change a plan's pages show),
or every plan of the region's for a section drawn from several; the plan row's own update
time; and the page's variant (opened node, page, filter) and what the viewer may see and do
(role, department, and the user where a section shows what only they may do). One rendering
then serves until a row changes: rendering nested nodes, milestone lists and 三色 colours
was most of these pages' time, not the database.

Sections holding forms (the milestone page, 星级测算) are rendered with a placeholder for
the CSRF token, replaced by each request's own token when served. JSON documents drawn
from the same rows (graph.json, gantt.json) are kept the same way.

Bounded by bytes (a big plan's section is ~200 KB), oldest out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from markupsafe import Markup

MAX_BYTES = 32 * 1024 * 1024  # per process
_CACHE: OrderedDict[tuple, tuple[object, int]] = OrderedDict()  # key -> (value, its size)
_LOCK = threading.Lock()
_size = 0


def kept(key: tuple, compute: Callable[[], object], size: Callable[[object], int] = len):
    """The value kept for key, computing it (outside the lock) when absent. A compute that
    raises keeps nothing (a refused filter, say, is answered afresh each time)."""
    global _size
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit[0]
    value = compute()
    with _LOCK:
        old = _CACHE.pop(key, None)
        _size -= old[1] if old is not None else 0
        _CACHE[key] = (value, size(value))
        _size += _CACHE[key][1]
        while _size > MAX_BYTES and len(_CACHE) > 1:
            _, (_, dropped) = _CACHE.popitem(last=False)
            _size -= dropped
    return value


def section(key: tuple, render: Callable[[], str]) -> Markup:
    """The rendered section for key, rendering it when absent."""
    return kept(key, lambda: Markup(render()))


# Stands for the CSRF token while a section with forms is rendered; each request's own
# token replaces it when the section is served, so no viewer ever gets another's token.
CSRF_MARK = "csrf-token-of-this-request"


def section_with_forms(key: tuple, render: Callable[[], str]) -> Markup:
    """A section holding forms, kept like `section`: rendered (forms constructed inside
    render) with CSRF_MARK for the token, which is replaced by this request's token."""
    from flask import current_app, g
    from flask_wtf.csrf import generate_csrf

    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def marked() -> str:
        own = g.pop(field, None)
        setattr(g, field, CSRF_MARK)  # what generate_csrf hands out for the rest of the render
        try:
            return render()
        finally:
            g.pop(field, None)
            if own is not None:
                setattr(g, field, own)

    body = kept(key, lambda: Markup(marked()))
    return Markup(body.replace(CSRF_MARK, generate_csrf())) if CSRF_MARK in body else body


def json_response(key: tuple, build: Callable[[], object]):
    """A JSON response whose serialised body is kept under key (built when absent)."""
    from flask import current_app

    body = section(key, lambda: current_app.json.response(build()).get_data(as_text=True))
    return current_app.response_class(str(body), mimetype="application/json")


def clear() -> None:
    global _size
    with _LOCK:
        _CACHE.clear()
        _size = 0
