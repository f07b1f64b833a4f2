"""The list pages' search boxes and pages: the typed text, a literal LIKE pattern over
some columns, and one page of rows with the query string's ?page=."""

from dataclasses import dataclass

from sqlalchemy import or_

from app.extensions import db
from app.params import MAX_PAGE, int_arg

MAX_QUERY = 64  # characters of a search box that are used


def search_text(raw: str | None, limit: int = MAX_QUERY) -> str:
    """A search box's text: no control characters (a NUL is a 500 on PostgreSQL), trimmed,
    at most `limit` characters."""
    text = "".join(ch for ch in (raw or "") if ch.isprintable())
    return text.strip()[:limit]


def like_escape(text: str) -> str:
    """The text as a literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(q: str, *columns):
    """SQL: any of the columns contains q (case-insensitive, q literal); None when q is empty."""
    if not q:
        return None
    pattern = f"%{like_escape(q)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def matching(stmt, q: str, *columns):
    """stmt narrowed to rows where any of the columns contains q (case-insensitive), or as
    it is when q is empty."""
    found = contains(q, *columns)
    return stmt if found is None else stmt.where(found)


def paged(stmt, per_page: int):
    """One page of stmt's rows (the count and the rows: two queries), ?page= read leniently."""
    return db.paginate(
        stmt, page=int_arg("page", high=MAX_PAGE, default=1, strict=False), per_page=per_page, error_out=False
    )


class Paged:
    """What the `pager` macro reads, from a list's page, per_page and total (a page of
    areas, a window count, a cut list)."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass(frozen=True)
class PageInfo(Paged):
    """A list paged by hand."""

    page: int
    total: int
    per_page: int
