"""The demo, loaded once per test module that asks for it (`demo`) with both plans' current
forecasts stored as the worker stores them, and emptied after that module. Tests on it do
not empty the database after each test (the next test reads the same demo); other tests are
emptied after each, as everywhere."""

import pytest
from sqlalchemy import select

from app.demo import load_demo
from app.extensions import db
from app.forecasting.snapshot import store_snapshot
from app.models import Plan
from tests.conftest import TEST_AS_OF, empty_app

WH, ZQ = "weihai-1313", "zhangqiu-3n"


@pytest.fixture(autouse=True)
def clean_db(request):
    if "app" not in request.fixturenames or "demo" in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    empty_app(app)


@pytest.fixture(scope="module")
def demo(app):
    with app.app_context():
        load_demo()
        db.session.commit()
        for code in (WH, ZQ):
            store_snapshot(db.session.scalar(select(Plan).where(Plan.code == code)), TEST_AS_OF)
        db.session.remove()
    yield
    empty_app(app)
    app.extensions.pop("starpath_demo", None)  # the demo banner's flag is cached per process
