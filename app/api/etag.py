"""ETag / If-Match from the objects' version columns (the optimistic lock of app/locking.py):
a write whose If-Match names an older version answers 412 before anything is written."""

from __future__ import annotations

from flask import request

from app.api.errors import error_response


def etag_of(obj) -> str:
    return f'"{type(obj).__name__.lower()}-{obj.id}-v{obj.version}"'


def with_etag(response, obj):
    response.headers["ETag"] = etag_of(obj)
    return response


def precondition_failed(obj):
    """A 412 response when the request's If-Match does not name obj's current version, else None.
    Without If-Match the write goes ahead (the version column still refuses a racing write)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" in wanted or etag_of(obj) in wanted:
        return None
    return error_response(
        412,
        f"If-Match 为 {header.strip()[:80]}，但记录当前版本为 {etag_of(obj)}："
        "记录已被修改，本次未写入任何内容。请重新读取后再提交。",
        headers={"ETag": etag_of(obj)},
    )
