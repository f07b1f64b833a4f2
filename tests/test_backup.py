"""`flask backup` / `flask restore`: the database and the uploads folder go together.

A backup of a world with evidence files, restored into a fresh database and a fresh
uploads folder (a new SQLite file, or a separate PostgreSQL database so the shared
`test` database is never overwritten), gives the same `plans export --json`, the same
rows in every table and the same evidence bytes. Damaged backups are refused.
"""

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Evidence, ProgressReport
from tests.factories import build_world

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
TEXT = "验收报告：视频平台升级已完成。\n".encode() * 50


def _add_evidence(app, world) -> dict[str, bytes]:
    """A submitted report with two evidence files, written where the app stores uploads."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    report = ProgressReport(
        milestone_id=world["m_police"],
        department_id=world["police_dept"],
        author_id=world["police"],
        text="平台已上线",
        percent=100,
        claimed_status="done",
        state="submitted",
    )
    db.session.add(report)
    files = {}
    for name, data, kind in (("验收报告.pdf", PDF, "application/pdf"), ("说明.txt", TEXT, "text/plain")):
        stored = uuid.uuid4().hex
        (folder / stored).write_bytes(data)
        report.evidence.append(
            Evidence(
                milestone_id=world["m_police"],
                uploaded_by_id=world["police"],
                original_name=name,
                stored_name=stored,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content_type=kind,
            )
        )
        files[stored] = data
    db.session.commit()
    return files


def _rows(app) -> dict[str, list]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        out = {}
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in db.session.execute(table.select().order_by(*order))]
        db.session.remove()
        return out


def _export(app, code="plan-a") -> dict:
    result = app.test_cli_runner().invoke(args=["plans", "export", code, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def world_with_files(app):
    # Files earlier tests left (their rows are gone): the backup holds exactly this world's.
    shutil.rmtree(app.config["UPLOAD_FOLDER"], ignore_errors=True)
    with app.app_context():
        world = build_world()
        files = _add_evidence(app, world)
        db.session.remove()
    yield world, files
    shutil.rmtree(app.config["UPLOAD_FOLDER"], ignore_errors=True)


@pytest.fixture
def fresh_app(app, tmp_path):
    """A second application on an empty database and an empty uploads folder."""
    url = os.environ.get("TEST_DATABASE_URL")
    dbname = None
    if url:
        dbname = f"starpath_restore_test_{os.getpid()}"
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        target = "postgresql+psycopg://" + url.split("://", 1)[1].rsplit("/", 1)[0] + f"/{dbname}"
    else:
        target = f"sqlite:///{tmp_path / 'restored.db'}"
    overrides = {
        key: app.config[key]
        for key in (
            "TESTING",
            "STARPATH_AS_OF",
            "SECRET_KEY",
            "REDIS_URL",
            "REDIS_EMBEDDED_PATH",
            "MAIL_OUTBOX_PATH",
        )
    }
    fresh = create_app(
        {**overrides, "SQLALCHEMY_DATABASE_URI": target, "UPLOAD_FOLDER": str(tmp_path / "restored-uploads")}
    )
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()
    if dbname:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_backup_then_restore_into_a_fresh_database_gives_the_same_plan_rows_and_files(
    app, world_with_files, fresh_app, tmp_path
):
    _, files = world_with_files
    before_export, before_rows = _export(app), _rows(app)
    backup_dir = tmp_path / "backup"

    made = _cli(app, "backup", "--output", str(backup_dir))
    assert made.exit_code == 0, made.output
    assert "2 个上传文件" in made.output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["database"] == ("postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite")
    with app.app_context():
        from app.backup import code_head

        assert manifest["schema_revision"] == code_head(app)
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    for stored, data in files.items():
        assert listed[f"uploads/{stored}"] == hashlib.sha256(data).hexdigest()
    assert manifest["database_file"] in listed

    restored = _cli(fresh_app, "restore", str(backup_dir))
    assert restored.exit_code == 0, restored.output
    assert "已从" in restored.output

    assert _export(fresh_app) == before_export
    assert _rows(fresh_app) == before_rows
    folder = Path(fresh_app.config["UPLOAD_FOLDER"])
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    with fresh_app.app_context():
        evidence = db.session.scalars(select(Evidence)).all()
        assert len(evidence) == 2
        for item in evidence:
            data = (folder / item.stored_name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == item.sha256
        db.session.remove()


def test_restore_over_data_needs_yes_and_then_replaces_database_and_uploads(
    app, world_with_files, fresh_app, tmp_path
):
    _, files = world_with_files
    before_export = _export(app)
    backup_dir = tmp_path / "backup"
    assert _cli(app, "backup", "--output", str(backup_dir)).exit_code == 0
    assert _cli(fresh_app, "restore", str(backup_dir)).exit_code == 0

    # Changes after the backup: a milestone renamed, a stray upload.
    with fresh_app.app_context():
        report = db.session.scalars(select(ProgressReport)).one()
        report.milestone.title = "改过的标题"
        db.session.commit()
        db.session.remove()
    stray = Path(fresh_app.config["UPLOAD_FOLDER"]) / "stray"
    stray.write_bytes(b"not in the backup")

    refused = _cli(fresh_app, "restore", str(backup_dir))
    assert refused.exit_code != 0
    assert "--yes" in refused.output and "数据库" in refused.output
    assert _export(fresh_app) != before_export  # nothing was touched

    replaced = _cli(fresh_app, "restore", str(backup_dir), "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert _export(fresh_app) == before_export
    folder = Path(fresh_app.config["UPLOAD_FOLDER"])
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


@pytest.fixture
def backup_dir(app, world_with_files, tmp_path):
    path = tmp_path / "backup"
    result = _cli(app, "backup", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def _first_upload(backup_dir: Path) -> Path:
    return sorted((backup_dir / "uploads").iterdir())[0]


def _refused(fresh_app, backup_dir, fragment):
    result = _cli(fresh_app, "restore", str(backup_dir))
    assert result.exit_code != 0
    assert fragment in result.output, result.output
    assert "Traceback" not in result.output
    # Nothing restored: the fresh database has no tables, the uploads folder is not there.
    assert not Path(fresh_app.config["UPLOAD_FOLDER"]).exists()
    with fresh_app.app_context():
        from app.backup import schema_revision

        assert schema_revision() is None
        db.session.remove()


def test_restore_refuses_a_changed_upload(fresh_app, backup_dir):
    path = _first_upload(backup_dir)
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))
    _refused(fresh_app, backup_dir, "校验值")


def test_restore_refuses_a_missing_upload(fresh_app, backup_dir):
    path = _first_upload(backup_dir)
    path.unlink()
    _refused(fresh_app, backup_dir, f"缺少文件 uploads/{path.name}")


def test_restore_refuses_a_changed_database_file(fresh_app, backup_dir):
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    with (backup_dir / manifest["database_file"]).open("ab") as handle:
        handle.write(b"\0")
    _refused(fresh_app, backup_dir, "校验值")


def test_restore_refuses_a_schema_newer_than_the_code(fresh_app, backup_dir):
    path = backup_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["schema_revision"] = "9999_from_the_future"
    path.write_text(json.dumps(manifest))
    _refused(fresh_app, backup_dir, "9999_from_the_future")


def test_restore_refuses_a_directory_without_manifest(fresh_app, tmp_path):
    (tmp_path / "empty").mkdir()
    _refused(fresh_app, tmp_path / "empty", "manifest.json")


def test_backup_refuses_a_non_empty_output_directory(app, world_with_files, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = _cli(app, "backup", "--output", str(out))
    assert result.exit_code != 0
    assert "不为空" in result.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only: needs pg_dump")
def test_backup_without_the_postgresql_tools_says_what_to_install(
    app, world_with_files, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    result = _cli(app, "backup", "--output", str(tmp_path / "backup"))
    assert result.exit_code != 0
    assert "找不到 pg_dump" in result.output and "postgresql-client" in result.output
    assert not (tmp_path / "backup").exists()
