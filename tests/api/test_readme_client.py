"""The README's ten-line Python client, run as written against a live server with a token
made by the CLI: it lists the department's overdue milestone and its report is submitted."""

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import ProgressReport
from tests.factories import build_world

README = Path(__file__).resolve().parents[2] / "README.md"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def readme_client() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Open API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_readme_client_is_at_most_ten_lines_of_code():
    code = [line for line in readme_client().splitlines() if line.strip()]
    assert len(code) <= 12  # ten statements and the import lines


def test_the_readme_client_lists_overdue_milestones_and_reports(app, live, tmp_path):
    with app.app_context():
        w = build_world()
        db.session.remove()
    created = app.test_cli_runner().invoke(args=["api", "token", "create", "police", "--days", "1"])
    token = created.output.strip().splitlines()[-1]
    (tmp_path / "进展说明.pdf").write_bytes(PDF)
    run = subprocess.run(
        [sys.executable, "-c", readme_client()],
        cwd=tmp_path,
        env={"STARPATH_URL": live, "STARPATH_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("2021-02-28 红 警务云建设"), run.stdout  # police's one overdue milestone
    assert lines[-1] == "201 待审核"
    with app.app_context():
        report = db.session.scalar(select(ProgressReport).where(ProgressReport.milestone_id == w["m_late"]))
        assert report.state == "submitted" and report.percent == 90
        assert [e.original_name for e in report.evidence] == ["进展说明.pdf"]
