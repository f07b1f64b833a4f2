"""Pagination of every list: ?page=&per_page= in, an envelope with the totals out."""

from __future__ import annotations

import marshmallow as ma
from sqlalchemy import func, select

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
