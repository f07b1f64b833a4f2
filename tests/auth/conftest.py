import pytest

from tests.factories import build_world


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


@pytest.fixture
def clock(monkeypatch):
    """Session time (app.sessions.now) under the test's hand: clock.advance(seconds)."""
    from app import sessions

    class Clock:
        moment = 1_800_000_000.0

        def advance(self, seconds: float) -> None:
            self.moment += seconds

    fake = Clock()
    monkeypatch.setattr(sessions, "now", lambda: fake.moment)
    return fake
