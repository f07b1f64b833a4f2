"""The admin saves a user who has an e-mail address (the demo's users all do, on an
internal .local domain); a malformed address gets a Chinese message and nothing is saved."""

import re

import pytest

from app.extensions import db
from app.models import User
from tests.conftest import csrf_from, login
from tests.factories import build_world


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        db.session.get(User, w["police"]).email = "police@demo.starpath.local"
        db.session.commit()
        return w


def messages(response) -> list[str]:
    """The flashed and field messages on a page that was drawn again."""
    return re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>([^<]+)', response.get_data(as_text=True))


def _form(client, world, user_id) -> dict:
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "police@demo.starpath.local" in page
    return {
        "csrf_token": csrf_from(client, f"/admin/users/{user_id}"),
        "username": "police",
        "display_name": "公安局联络员",
        "email": "police@demo.starpath.local",
        "role": "department",
        "region_id": world["region_a"],
        "department_id": world["police_dept"],
        "active": "y",
    }


@pytest.mark.parametrize("email", ["police@demo.starpath.local", " 张三@公安.中国 ", "a.b@police.gov.cn"])
def test_admin_saves_a_user_with_an_email(app, client, ctx, world, email):
    login(client, "admin")
    data = _form(client, world, world["police"]) | {"email": email}
    response = client.post(f"/admin/users/{world['police']}", data=data)
    assert response.status_code == 302, messages(response)
    db.session.expire_all()
    user = db.session.get(User, world["police"])
    assert (user.display_name, user.email) == ("公安局联络员", email.strip())


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@@b.cn", "张三@", "a b@c.cn", "a@.local", "a@b..local"]
)
def test_a_malformed_address_is_refused_in_chinese(app, client, ctx, world, email):
    login(client, "admin")
    data = _form(client, world, world["police"]) | {"email": email}
    response = client.post(f"/admin/users/{world['police']}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "邮箱格式不正确" in page
    db.session.expire_all()
    assert db.session.get(User, world["police"]).email == "police@demo.starpath.local"
