"""Making, finding and revoking personal API tokens (stored as SHA-256 only)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app import audit
from app.clock import utcnow
from app.extensions import db
from app.models import ApiToken, User

TOKEN_PREFIX = "sp_"
MAX_DAYS = 3650


class TokenError(ValueError):
    """A token request that cannot be granted; the message is Chinese."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(user: User, name: str, days: int, actor=None) -> tuple[ApiToken, str]:
    """A new token for `user`, valid `days` days; returns the row and the token (shown once).
    Adds to the session and audits; the caller commits."""
    name = (name or "").strip()
    if not name:
        raise TokenError("请填写令牌名称（用途），如“一网统管对接”。")
    if len(name) > 64:
        raise TokenError("令牌名称不超过 64 个字。")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"有效天数应在 1 到 {MAX_DAYS} 之间，收到 {days}。")
    if not user.active:
        raise TokenError(f"账号 {user.username} 已停用，不能创建令牌。")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(token),
        prefix=token[:10],
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(row)
    audit.record(
        actor,
        "api_token.create",
        row,
        f"为 {user.username} 创建接口令牌“{name}”（{days} 天有效）",
        after={"user": user.username, "name": name, "expires_at": row.expires_at.isoformat()},
        region_id=user.region_id,
    )
    return row, token


def revoke(row: ApiToken, actor=None) -> bool:
    """Revoke a token; False when it already was. The caller commits."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit.record(
        actor,
        "api_token.revoke",
        row,
        f"吊销 {row.user.username} 的接口令牌“{row.name}”",
        before={"revoked_at": None},
        after={"revoked_at": row.revoked_at.isoformat()},
        region_id=row.user.region_id,
    )
    return True


def find(token: str) -> ApiToken | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))


def of_user(user_id: int) -> list[ApiToken]:
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
