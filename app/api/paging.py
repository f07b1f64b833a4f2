"""Pagination of every list: ?page=&per_page= in, an envelope with the totals out
(`list_endpoint`, the one shape of every list view)."""

from __future__ import annotations

from functools import cache, wraps

import marshmallow as ma
from sqlalchemy import Select, func, select

from app.extensions import db

MAX_PER_PAGE = 200


class PageArgs(ma.Schema):
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(1, 100000), metadata={"description": "页码，从 1 起"}
    )
    per_page = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(1, MAX_PER_PAGE),
        metadata={"description": f"每页条数，1 到 {MAX_PER_PAGE}"},
    )


@cache  # one class per item schema: the document names each envelope once
def page_schema(item_schema, name: str):
    """The envelope schema of a list of `item_schema`."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True, metadata={"description": "页码"}),
            "per_page": ma.fields.Integer(required=True, metadata={"description": "每页条数"}),
            "total": ma.fields.Integer(required=True, metadata={"description": "总条数"}),
            "pages": ma.fields.Integer(required=True, metadata={"description": "总页数"}),
        },
        name=name,
    )


def paginate(stmt, args: dict, scalars: bool = True) -> dict:
    """One page of `stmt` (ordered by the caller) and the count of all its rows."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = rows.scalars().all() if scalars else rows.all()
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": (total + per_page - 1) // per_page,
    }


def page_of(items: list, args: dict) -> dict:
    """The same envelope over a list already in memory."""
    page, per_page = args["page"], args["per_page"]
    return {
        "items": items[(page - 1) * per_page : page * per_page],
        "page": page,
        "per_page": per_page,
        "total": len(items),
        "pages": (len(items) + per_page - 1) // per_page,
    }


def list_endpoint(bp, item_schema, args=PageArgs, present=None):
    """Decorator of a list view (GET): the query string read with `args` (PageArgs and the
    list's filters), the answer the envelope of `item_schema` items, named after it
    (PlanSchema → PlanPage).

    The view takes the args (and the URL's values) and returns its ordered, scoped statement,
    of which one page is read; or a list it has already built and presented, paged in
    memory. `present`, if given, turns the rows of a statement's page into the items
    dumped (a list in, a list out)."""
    envelope = page_schema(item_schema, item_schema.__name__.removesuffix("Schema") + "Page")

    def decorator(view):
        @wraps(view)
        def listed(*view_args, **view_kwargs):
            found = view(*view_args, **view_kwargs)
            page_args = view_args[-1]  # flask-smorest passes the parsed args after self, if any
            if not isinstance(found, Select):
                return page_of(found, page_args)
            page = paginate(found, page_args)
            if present is not None:
                page["items"] = present(page["items"])
            return page

        return bp.arguments(args, location="query")(bp.response(200, envelope)(listed))

    return decorator
