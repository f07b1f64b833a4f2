"""flask api token create|list|revoke: personal API tokens from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.api import tokens
from app.clock import utcnow
from app.extensions import db
from app.models import ApiToken, User

api_cli = AppGroup("api", help="Open API /api/v1.")


@api_cli.group("token")
def token_cli():
    """Personal API tokens (stored hashed; shown once)."""


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"没有用户 {username!r}。")
    return user


@token_cli.command("create")
@click.argument("username")
@click.option("--days", type=int, default=None, help="有效天数（默认 API_TOKEN_DEFAULT_DAYS，90）")
@click.option("--name", default="命令行创建", show_default=True, help="令牌名称（用途）")
def create(username, days, name):
    """Create a token for USERNAME; the token alone is printed on the last line."""
    user = _user(username)
    days = days if days is not None else current_app.config["API_TOKEN_DEFAULT_DAYS"]
    try:
        row, token = tokens.create(user, name, days)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    until = f"{row.expires_at:%Y-%m-%d %H:%M}"
    click.echo(f"已为 {user.username} 创建接口令牌 #{row.id}“{row.name}”，有效期至 {until} UTC。")
    click.echo("令牌只显示这一次，请妥善保存：")
    click.echo(token)


@token_cli.command("list")
@click.argument("username", required=False)
def list_tokens(username):
    """List tokens (of USERNAME, or of everyone): id, user, name, prefix, state, expiry, last use."""
    stmt = select(ApiToken).order_by(ApiToken.id)
    if username:
        stmt = stmt.where(ApiToken.user_id == _user(username).id)
    rows = db.session.scalars(stmt).all()
    if not rows:
        click.echo("没有接口令牌。")
    now = utcnow()
    for row in rows:
        state = "已吊销" if row.revoked_at else ("已过期" if row.expires_at <= now else "有效")
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "从未使用"
        click.echo(
            f"#{row.id}\t{row.user.username}\t{row.name}\t{row.prefix}…\t{state}\t"
            f"至 {row.expires_at:%Y-%m-%d}\t最近使用 {used}"
        )


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id):
    """Revoke token TOKEN_ID (from `flask api token list`)."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"没有编号为 {token_id} 的接口令牌。")
    if not tokens.revoke(row):
        click.echo(f"令牌 #{row.id} 早已吊销。")
        return
    db.session.commit()
    click.echo(f"已吊销 {row.user.username} 的接口令牌 #{row.id}“{row.name}”。")
