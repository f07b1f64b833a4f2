"""WSGI entry point: the only place an application is built at import."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a refused setting: one line, not a traceback
    sys.stderr.write(f"星途无法启动（配置错误）：{exc}\n")
    raise SystemExit(2) from None
