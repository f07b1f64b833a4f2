"""Backup and restore: the database and the uploads folder, together, with a manifest.

A backup is a directory:

    manifest.json        time, schema revision, database kind, every file with its sha256
    database.sqlite3     SQLite: a copy made with the online backup API (safe while the app runs)
    database.pgdump      PostgreSQL: `pg_dump --format=custom`
    uploads/...          the evidence files (UPLOAD_FOLDER); rows name them, so they go together

Restore checks the manifest before touching anything (every file present with its
hash, a schema revision this code knows, the same database kind), asks for
``--yes`` before overwriting a database or an uploads folder that holds data,
then replaces the database (SQLite backup API; `pg_restore --clean --if-exists
--single-transaction`) and swaps the uploads folder in whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from app.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
UPLOADS = "uploads"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why."""


# --- helpers -------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def database_kind(app: Flask) -> str:
    backend = db.engine.url.get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend
    raise BackupError(f"不支持备份此类数据库：{backend}（仅支持 SQLite 与 PostgreSQL）")


def schema_revision() -> str | None:
    if not inspect(db.engine).has_table("alembic_version"):
        return None
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _script_directory(app: Flask):
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(app.root_path).parent / "migrations"))


def known_revisions(app: Flask) -> set[str]:
    return {rev.revision for rev in _script_directory(app).walk_revisions()}


def code_head(app: Flask) -> str | None:
    return _script_directory(app).get_current_head()


def _sqlite_path() -> Path:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复。")
    return Path(path)


def _libpq(url: URL) -> tuple[str, dict]:
    """A libpq connection string for pg_dump / pg_restore, the password passed in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 {name}：PostgreSQL 的备份与恢复需要 PostgreSQL 客户端工具"
            f"（Debian/Ubuntu：apt-get install postgresql-client，主版本不低于服务器）。"
        )
    return path


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise BackupError(f"无法识别 {path} 的版本：{out.strip()}")
    return int(match.group(1))


def _server_major() -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000


def _check_pg_version(tool: str) -> None:
    tool_major, server_major = _tool_major(tool), _server_major()
    if tool_major < server_major:
        raise BackupError(
            f"{Path(tool).name} 的版本（{tool_major}）低于 PostgreSQL 服务器（{server_major}）："
            f"请安装 {server_major} 或更高版本的 PostgreSQL 客户端工具。"
        )


def _run(cmd: list[str], env: dict, what: str) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what}失败：" + (detail[-1] if detail else f"退出码 {result.returncode}"))


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- backup --------------------------------------------------------------------------------------


def create_backup(app: Flask, output: str | os.PathLike) -> dict:
    """Write a backup of the database and the uploads folder into `output` (new or empty)."""
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"备份目录 {out} 已存在且不为空：请指定一个新的或空的目录。")
    kind = database_kind(app)
    revision = schema_revision()
    if revision is None:
        raise BackupError("数据库尚未初始化（没有 alembic_version）：没有可备份的内容。")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        # The database first: every file a row names was written before its row committed,
        # so the uploads copied afterwards hold every file the database copy refers to.
        if kind == "sqlite":
            db_file = SQLITE_FILE
            source = sqlite3.connect(str(_sqlite_path()))
            target = sqlite3.connect(str(out / db_file))
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            db_file = PG_FILE
            tool = _pg_tool("pg_dump")
            _check_pg_version(tool)
            conninfo, env = _libpq(db.engine.url)
            _run(
                [
                    tool,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(out / db_file),
                    conninfo,
                ],
                env,
                "pg_dump 导出数据库",
            )
        uploads_src = Path(app.config["UPLOAD_FOLDER"])
        uploads_dst = out / UPLOADS
        uploads_dst.mkdir()
        if uploads_src.is_dir():
            for path in _files_under(uploads_src):
                target_path = uploads_dst / path.relative_to(uploads_src)
                target_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target_path)
        files = [out / db_file, *_files_under(uploads_dst)]
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_revision": revision,
            "database": kind,
            "database_file": db_file,
            "files": [
                {"path": p.relative_to(out).as_posix(), "size": p.stat().st_size, "sha256": sha256_of(p)}
                for p in files
            ],
        }
        (out / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:  # the directory was the caller's (empty): leave it, empty again
            for item in out.iterdir():
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        raise
    return manifest


# --- restore -------------------------------------------------------------------------------------


def read_manifest(app: Flask, source: str | os.PathLike) -> dict:
    """The backup's manifest, checked against its files and this code; raises BackupError."""
    src = Path(source)
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} 不是备份目录：缺少 {MANIFEST}。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        kind, db_file, revision = manifest["database"], manifest["database_file"], manifest["schema_revision"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"备份清单 {path} 无法读取：{exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')!r} 不受支持（本版本为 {FORMAT}）。")
    if kind != database_kind(app):
        raise BackupError(f"备份来自 {kind} 数据库，不能恢复到当前的 {database_kind(app)} 数据库。")
    if revision not in known_revisions(app):
        raise BackupError(
            f"备份的数据库结构版本 {revision} 不为本程序所知（可能比程序更新）："
            "请用相同或更新版本的程序恢复。"
        )
    listed = set()
    for entry in files:
        rel = entry.get("path", "")
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise BackupError(f"备份清单中的路径无效：{rel!r}")
        listed.add(rel)
        file = src / rel
        if not file.is_file():
            raise BackupError(f"备份不完整：缺少文件 {rel}。")
        if sha256_of(file) != entry.get("sha256"):
            raise BackupError(f"备份文件 {rel} 的校验值（sha256）与清单不符：文件已损坏或被改动。")
    if db_file not in listed:
        raise BackupError(f"备份清单中没有数据库文件 {db_file}。")
    extra = (
        [p.relative_to(src).as_posix() for p in _files_under(src / UPLOADS)]
        if (src / UPLOADS).is_dir()
        else []
    )
    unlisted = sorted(set(extra) - listed)
    if unlisted:
        raise BackupError(f"备份中有清单未列出的文件：{unlisted[0]}（共 {len(unlisted)} 个）。")
    return manifest


def database_has_data() -> bool:
    names = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in names and conn.execute(table.select().limit(1)).first() is not None:
                return True
    return False


def target_holds_data(app: Flask) -> list[str]:
    """What restore would overwrite, in words; empty when the target is empty."""
    found = []
    if database_has_data():
        found.append("数据库")
    uploads = Path(app.config["UPLOAD_FOLDER"])
    if uploads.is_dir() and any(uploads.iterdir()):
        found.append(f"上传目录 {uploads}")
    return found


def restore_backup(app: Flask, source: str | os.PathLike, *, overwrite: bool = False) -> dict:
    """Replace the database and the uploads folder with the backup in `source`."""
    src = Path(source)
    manifest = read_manifest(app, src)
    occupied = target_holds_data(app)
    if occupied and not overwrite:
        raise BackupError(f"{'和'.join(occupied)}中已有数据，恢复会覆盖它们：确认后加 --yes 重新运行。")
    uploads = Path(app.config["UPLOAD_FOLDER"])
    uploads.parent.mkdir(parents=True, exist_ok=True)
    # Stage the uploads next to their destination first, so a failure leaves the old ones in place.
    staging = Path(tempfile.mkdtemp(prefix=f".{uploads.name}.restoring-", dir=uploads.parent))
    try:
        backup_uploads = src / UPLOADS
        if backup_uploads.is_dir():
            shutil.copytree(backup_uploads, staging, dirs_exist_ok=True)
        db.session.remove()
        db.engine.dispose()
        db_file = src / manifest["database_file"]
        if manifest["database"] == "sqlite":
            target_path = _sqlite_path()
            target_path.parent.mkdir(parents=True, exist_ok=True)
            source_conn = sqlite3.connect(str(db_file))
            target_conn = sqlite3.connect(str(target_path), timeout=30)
            try:
                source_conn.backup(target_conn)
            finally:
                target_conn.close()
                source_conn.close()
        else:
            tool = _pg_tool("pg_restore")
            _check_pg_version(tool)
            db.engine.dispose()
            conninfo, env = _libpq(db.engine.url)
            _run(
                [
                    tool,
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--dbname",
                    conninfo,
                    str(db_file),
                ],
                env,
                "pg_restore 恢复数据库",
            )
        db.engine.dispose()
        old = None
        if uploads.exists():
            old = uploads.with_name(f".{uploads.name}.replaced-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            uploads.rename(old)
        staging.rename(uploads)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
