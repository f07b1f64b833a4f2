"""/notifications: newest first, 50 a page; 全部标为已读 marks every page read."""

from datetime import datetime, timedelta

from app.extensions import db
from app.models import Notification
from tests.conftest import csrf_from, login
from tests.factories import build_world


def test_notifications_are_paged_and_all_marked_read(app, client):
    with app.app_context():
        w = build_world()
        start = datetime(2021, 3, 1, 8, 0)
        for i in range(55):
            db.session.add(
                Notification(user_id=w["police"], text=f"消息{i:02d}", created_at=start + timedelta(hours=i))
            )
        db.session.add(Notification(user_id=w["transport"], text="别人的消息"))
        db.session.commit()
    login(client, "police")
    first = client.get("/notifications").get_data(as_text=True)
    assert "共 55 条" in first and "第 1 / 2 页" in first
    assert first.index("消息54") < first.index("消息05") and "消息04" not in first
    assert "别人的消息" not in first
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert "消息04" in second and "消息00" in second and "消息05" not in second
    client.post("/notifications/read", data={"csrf_token": csrf_from(client, "/notifications")})
    with app.app_context():
        unread = db.session.scalars(db.select(Notification).where(Notification.read_at.is_(None))).all()
        assert [n.text for n in unread] == ["别人的消息"]
    # the header's count (read with the user) is the user's own unread messages, then none
    assert 'data-testid="unread"' not in client.get("/my").get_data(as_text=True)


def test_the_header_counts_the_users_own_unread_messages(app, client):
    with app.app_context():
        w = build_world()
        for i in range(3):
            db.session.add(Notification(user_id=w["police"], text=f"消息{i}"))
        db.session.add(Notification(user_id=w["police"], text="已读", read_at=datetime(2021, 3, 2)))
        db.session.add(Notification(user_id=w["transport"], text="别人的消息"))
        db.session.commit()
    login(client, "police")
    assert 'data-testid="unread">3</span>' in client.get("/my").get_data(as_text=True)
    with app.app_context():
        db.session.add(Notification(user_id=w["police"], text="新消息"))
        db.session.commit()
    assert 'data-testid="unread">4</span>' in client.get("/plans/plan-a/indicators").get_data(as_text=True)
