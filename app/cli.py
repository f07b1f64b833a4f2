"""Flask CLI commands: demo data and user management."""

import click
from flask import Flask

from app.extensions import db
from app.planio.cli import plans_cli


def register(app: Flask) -> None:
    app.cli.add_command(plans_cli)
    from app.api.cli import api_cli

    app.cli.add_command(api_cli)

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

    @app.cli.command("backup")
    @click.option(
        "--output", "output", required=True, type=click.Path(file_okay=False), help="新的或空的目录"
    )
    def backup_command(output):
        """Back up the database and the uploads folder into a new directory (with a manifest)."""
        from flask import current_app

        from app.backup import BackupError, create_backup

        try:
            manifest = create_backup(current_app, output)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        uploads = sum(1 for f in manifest["files"] if f["path"].startswith("uploads/"))
        click.echo(
            f"已备份到 {output}：{manifest['database']} 数据库（结构版本 {manifest['schema_revision']}）"
            f"和 {uploads} 个上传文件。"
        )

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(file_okay=False))
    @click.option("--yes", is_flag=True, help="覆盖已有数据的数据库和上传目录")
    def restore_command(source, yes):
        """Restore the database and the uploads folder from a backup directory."""
        from flask import current_app

        from app.backup import BackupError, code_head, restore_backup

        try:
            manifest = restore_backup(current_app, source, overwrite=yes)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        uploads = sum(1 for f in manifest["files"] if f["path"].startswith("uploads/"))
        click.echo(
            f"已从 {source} 恢复：{manifest['database']} 数据库（备份于 {manifest['created_at']}）"
            f"和 {uploads} 个上传文件。"
        )
        if manifest["schema_revision"] != code_head(current_app):
            click.echo("备份的数据库结构早于本程序：请运行 flask --app wsgi db upgrade。")
