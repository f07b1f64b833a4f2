"""The plan tree's rendered section, kept per process while the plan's fingerprint
(app.plans.tree_data.plan_fingerprint: every row the section shows, and the date) and
the opened node and page stay the same.

The section shows the same to everyone who may open the plan page (its rows and counts,
no forms), so one rendering serves every viewer until a row changes: rendering ~150
nested nodes and milestones was most of the tree page's time, not the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from markupsafe import Markup

MAX_ENTRIES = 64  # sections (a plan's whole tree, or one opened node and page)
_CACHE: OrderedDict[tuple, Markup] = OrderedDict()
_LOCK = threading.Lock()


def section(key: tuple, render: Callable[[], str]) -> Markup:
    """The rendered section for key, rendering it (outside the lock) when absent."""
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    html = Markup(render())
    with _LOCK:
        _CACHE[key] = html
        while len(_CACHE) > MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return html


def clear() -> None:
    with _LOCK:
        _CACHE.clear()
