"""Fixtures of the API tests: the matrix world (objects of every kind in regions A and B)
and personal tokens made through app.api.tokens, as the CLI and the page make them."""

import pytest

from app.api import tokens
from app.extensions import db
from app.models import User
from tests.factories import build_matrix_world


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_matrix_world()
        db.session.remove()
    return w


@pytest.fixture
def token(app, world):
    """token("police") → a fresh Bearer token of that user."""

    def make(username: str, days: int = 30) -> str:
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
            _row, secret = tokens.create(user, "测试", days)
            db.session.commit()
            db.session.remove()
        return secret

    return make


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
