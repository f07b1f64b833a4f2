"""Flask CLI commands: demo data and user management."""

import click
from flask import Flask

from app.extensions import db
from app.planio.cli import plans_cli


def register(app: Flask) -> None:
    app.cli.add_command(plans_cli)

    @app.cli.group()
    def demo():
        """Demo data."""

    @demo.command("load")
    def demo_load():
        """Load the demo plan and one account per role (idempotent)."""
        from app import clock
        from app.demo import load_demo
        from app.forecasting.snapshot import store_snapshot
        from app.models import Plan

        accounts = load_demo()
        db.session.commit()
        # The first star forecast of each plan, so its page has one before any worker runs.
        for plan in db.session.scalars(db.select(Plan).where(Plan.standard_code.is_not(None))):
            run, new = store_snapshot(plan, clock.today())
            if new:
                click.echo(f"星级测算：{plan.code} 已测算（{run.duration_ms} 毫秒）")
        click.echo("演示数据已载入。演示账号（用户名 / 密码 / 角色）：")
        for username, password, role in accounts:
            click.echo(f"  {username:<16} {password:<14} {role}")

    @app.cli.command("create-admin")
    @click.argument("username")
    @click.password_option()
    def create_admin(username, password):
        """Create an administrator account."""
        from app import audit
        from app.models import User

        if db.session.scalar(db.select(User).where(User.username == username)):
            raise click.ClickException(f"user {username!r} already exists")
        user = User(username=username, display_name=username, role="admin")
        user.set_password(password)
        db.session.add(user)
        audit.record(None, "user.create", user, f"命令行创建管理员 {username}")
        db.session.commit()
        click.echo(f"created admin {username}")
