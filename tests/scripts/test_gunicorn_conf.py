"""The gunicorn settings move a loaded worker's long-lived objects out of the collector's
sight (gc.freeze): once the app is loaded, and again after the first requests."""

import gc
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "scripts" / "deploy" / "gunicorn.conf.py"


def _load():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_worker_freezes_after_loading_and_after_its_first_requests():
    conf = _load()
    gc.unfreeze()
    try:
        conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 1000  # this test process's modules, at least
        gc.unfreeze()
        for _ in range(conf.FREEZE_AGAIN_AFTER - 1):
            conf.post_request(None, None, {}, None)
        assert gc.get_freeze_count() == 0
        conf.post_request(None, None, {}, None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_gunicorn_reads_the_settings_and_the_service_and_benchmark_use_them():
    out = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", str(CONF), "--print-config", "wsgi:app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    hooks = {
        k.strip(): v.strip()
        for k, v in (line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    }
    # ours, not gunicorn's defaults (<PostWorkerInit.post_worker_init()>)
    assert hooks["post_worker_init"] == "<post_worker_init()>"
    assert hooks["post_request"] == "<post_request()>"
    service = (ROOT / "scripts" / "deploy" / "starpath-web.service").read_text()
    assert "-c scripts/deploy/gunicorn.conf.py" in service
    assert '"scripts" / "deploy" / "gunicorn.conf.py"' in (ROOT / "scripts" / "web_load.py").read_text()
