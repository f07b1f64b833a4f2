"""Configuration refuses settings that would silently run the wrong thing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ConfigError, build_config

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "3f9a1c7e5b2d8046a1f3c9e7d5b20864"  # 32 bytes, random-looking
PG_URL = "postgresql://starpath@db.internal:5432/starpath"


@pytest.fixture
def env(monkeypatch):
    for name in ("STARPATH_ENV", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def set_env(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def example_secret() -> str:
    for line in (ROOT / "scripts" / "deploy" / "starpath.env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.split("=", 1)[1]
    raise AssertionError("the example env file has no SECRET_KEY line")


@pytest.mark.parametrize("profile", ["development", "testing", "production"])
def test_the_three_profiles_are_accepted(env, tmp_path, profile):
    env(STARPATH_ENV=profile, SECRET_KEY=GOOD_SECRET, DATABASE_URL=PG_URL)
    assert build_config(str(tmp_path))["STARPATH_ENV"] == profile


def test_no_profile_is_development(env, tmp_path):
    assert build_config(str(tmp_path))["STARPATH_ENV"] == "development"


@pytest.mark.parametrize(
    "profile", ["prod", "Production", "PRODUCTION", "production ", "dev", "productoin", "test"]
)
def test_an_unknown_profile_refuses_to_start_naming_the_allowed_ones(env, tmp_path, profile):
    env(STARPATH_ENV=profile, SECRET_KEY=GOOD_SECRET, DATABASE_URL=PG_URL)
    with pytest.raises(ConfigError) as refused:
        build_config(str(tmp_path))
    message = str(refused.value)
    assert repr(profile) in message
    assert "development, testing, production" in message


def test_an_unknown_profile_given_as_override_is_refused_too(env, tmp_path):
    with pytest.raises(ConfigError, match="STARPATH_ENV"):
        build_config(str(tmp_path), {"STARPATH_ENV": "prod"})


@pytest.mark.parametrize(
    "secret",
    [
        "x",
        "a" * 31,
        "短" * 10,  # 30 bytes in UTF-8
    ],
)
def test_production_refuses_a_secret_under_32_bytes(env, tmp_path, secret):
    env(STARPATH_ENV="production", SECRET_KEY=secret, DATABASE_URL=PG_URL)
    with pytest.raises(ConfigError, match="too short"):
        build_config(str(tmp_path))


def test_production_refuses_the_example_secret(env, tmp_path):
    secret = example_secret()
    assert len(secret.encode()) >= 32, "the example must be refused for being the example, not for length"
    env(STARPATH_ENV="production", SECRET_KEY=secret, DATABASE_URL=PG_URL)
    with pytest.raises(ConfigError, match="placeholder"):
        build_config(str(tmp_path))


@pytest.mark.parametrize(
    "secret",
    ["change-me-change-me-change-me-change-me", "CHANGEME-please-0123456789abcdefghij", "a" * 40],
)
def test_production_refuses_placeholder_secrets(env, tmp_path, secret):
    env(STARPATH_ENV="production", SECRET_KEY=secret, DATABASE_URL=PG_URL)
    with pytest.raises(ConfigError):
        build_config(str(tmp_path))


def test_production_refuses_no_secret_and_no_database(env, tmp_path):
    env(STARPATH_ENV="production", DATABASE_URL=PG_URL)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        build_config(str(tmp_path))
    env(SECRET_KEY=GOOD_SECRET)
    os.environ.pop("DATABASE_URL")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        build_config(str(tmp_path))


def test_production_accepts_a_long_random_secret(env, tmp_path):
    env(STARPATH_ENV="production", SECRET_KEY=GOOD_SECRET, DATABASE_URL=PG_URL)
    config = build_config(str(tmp_path))
    assert config["SECRET_KEY"] == GOOD_SECRET
    assert config["SESSION_COOKIE_SECURE"] is True


def test_development_keeps_a_short_secret_working(env, tmp_path):
    env(SECRET_KEY="dev")
    assert build_config(str(tmp_path))["SECRET_KEY"] == "dev"


def test_the_flask_command_refuses_to_start_with_a_typo_profile(tmp_path):
    environment = {**os.environ, "STARPATH_ENV": "prod", "FLASK_APP": "wsgi"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "STARPATH_ENV='prod' is not a known profile" in result.stderr
    assert "development, testing, production" in result.stderr
    assert "Traceback" not in result.stderr and result.returncode == 2  # one line, not a traceback
