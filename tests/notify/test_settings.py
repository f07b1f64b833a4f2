"""/settings/notifications (own and, for admins, anyone's) and /plans/<code>/reminder-policy."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, NotificationSetting, Plan, PlanNode, ReminderPolicy, User
from tests.conftest import csrf_from, hidden, login
from tests.factories import build_world

SETTINGS = "/settings/notifications"
POLICY = "/plans/plan-a/reminder-policy"


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        db.session.get(User, w["police"]).email = "police@example.cn"
        db.session.commit()
        return w


def _setting(app, user_id):
    with app.app_context():
        row = db.session.scalar(select(NotificationSetting).where(NotificationSetting.user_id == user_id))
        return None if row is None else (row.email, row.webhook, row.digest, row.digest_hour)


def _settings_form(client, url, **changes):
    data = {
        "csrf_token": csrf_from(client, url),
        "token": hidden(client, url, "token"),
        "email": "y",
        "webhook": "y",
        "digest": "digest",
        "digest_hour": "8",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_user_edits_own_settings(app, client, world):
    login(client, "police")
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "police@example.cn" in page
    assert '<input checked id="email" name="email" type="checkbox"' in page  # the default: on
    data = _settings_form(client, SETTINGS, email=None, digest="instant", digest_hour="17")
    response = client.post(SETTINGS, data=data)
    assert response.status_code == 302
    assert _setting(app, world["police"]) == (False, True, False, 17)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification_setting.edit"))
        assert event.user_id == world["police"] and event.after["digest_hour"] == 17
        assert event.before["email"] is True and event.region_id == world["region_a"]

    # A second save from the form shown before the first one (another tab) is refused.
    again = client.post(SETTINGS, data={**data, "email": "y", "digest_hour": "6"})
    assert again.status_code == 409
    assert "提醒设置已在其他窗口或被管理员修改" in again.get_data(as_text=True)
    assert _setting(app, world["police"]) == (False, True, False, 17)

    # The page shows the stored values; the next save from it goes through.
    data = _settings_form(client, SETTINGS, digest_hour="9")
    assert client.post(SETTINGS, data=data).status_code == 302
    assert _setting(app, world["police"]) == (True, True, True, 9)


def test_digest_hour_must_be_an_hour(app, client, world):
    login(client, "police")
    response = client.post(SETTINGS, data=_settings_form(client, SETTINGS, digest_hour="24"))
    assert response.status_code == 400
    assert _setting(app, world["police"]) is None


def test_admin_edits_a_users_settings_and_the_users_old_form_is_stale(app, client, world):
    login(client, "police")
    users_form = _settings_form(client, SETTINGS, webhook=None)
    login(client, "admin")
    url = f"/admin/users/{world['police']}/notifications"
    page = client.get(url).get_data(as_text=True)
    assert "police@example.cn" in page
    assert client.post(url, data=_settings_form(client, url, digest_hour="20")).status_code == 302
    assert _setting(app, world["police"]) == (True, True, True, 20)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification_setting.edit"))
        assert event.user_id == world["admin"] and "police" in event.summary
    login(client, "police")
    users_form["csrf_token"] = csrf_from(client, SETTINGS)
    assert client.post(SETTINGS, data=users_form).status_code == 409
    assert _setting(app, world["police"]) == (True, True, True, 20)


def test_only_admin_edits_other_users_settings(client, world):
    login(client, "office")
    assert client.get(f"/admin/users/{world['police']}/notifications").status_code == 403


def _policy_form(client, **changes):
    data = {
        "csrf_token": csrf_from(client, POLICY),
        "version": hidden(client, POLICY, "version"),
        "before_days": "14, 3，0",
        "overdue_every_days": "3",
        "escalate_overdue_days": "10",
        "escalate_returned_days": "4",
        "include_co_departments": "y",
        "status_soon_days": "7",
        "status_behind_points": "20",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _policy(app):
    with app.app_context():
        row = db.session.scalar(select(ReminderPolicy))
        if row is None:
            return None
        return (
            row.before_days,
            row.overdue_every_days,
            row.escalate_overdue_days,
            row.escalate_returned_days,
            row.include_co_departments,
            row.escalate_notices,
            row.version,
        )


def test_plan_office_edits_policy_and_stale_version_is_409(app, client, world):
    login(client, "office")
    page = client.get(POLICY).get_data(as_text=True)
    assert "使用默认规则" in page and 'value="30,7,1,0"' in page
    stale = _policy_form(client, before_days="1")
    assert client.post(POLICY, data=_policy_form(client)).status_code == 302
    assert _policy(app) == ([14, 3, 0], 3, 10, 4, True, False, 1)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reminder_policy.edit"))
        assert event.after["before_days"] == [14, 3, 0] and event.region_id == world["region_a"]

    # The form shown before the save (version 0) is now stale: 409, nothing written.
    response = client.post(POLICY, data=stale)
    assert response.status_code == 409
    assert "提醒规则已被他人修改" in response.get_data(as_text=True)
    assert _policy(app) == ([14, 3, 0], 3, 10, 4, True, False, 1)

    # Editing the current version bumps it.
    assert client.post(POLICY, data=_policy_form(client, escalate_notices="y")).status_code == 302
    assert _policy(app)[5:] == (True, 2)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("before_days", "7,-1", "“-1”不是非负整数"),
        ("before_days", "7,x", "“x”不是非负整数"),
        ("before_days", "400", "提前天数最多 365 天"),
        ("overdue_every_days", "0", "逾期提醒间隔应为 1–90 天"),
        ("escalate_overdue_days", "", "请填写逾期升级天数"),
        ("status_soon_days", "61", "标黄的临期天数应为 0–60 天"),
        ("status_behind_points", "0", "落后序时进度的百分点应为 1–100"),
        ("status_behind_points", "", "请填写落后序时进度的百分点"),
    ],
)
def test_policy_validation(app, client, world, field, value, message):
    login(client, "office")
    response = client.post(POLICY, data=_policy_form(client, **{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _policy(app) is None


def test_policy_outside_region_is_404(client, world):
    login(client, "other_office")
    assert client.get(POLICY).status_code == 404
    token = csrf_from(client, SETTINGS)
    response = client.post(POLICY, data={"csrf_token": token, "version": "0", "before_days": "1"})
    assert response.status_code == 404
    assert client.get("/plans/plan-b/reminder-policy").status_code == 200


@pytest.mark.parametrize("username", ["police", "leader", "admin"])
def test_others_see_policy_read_only_and_cannot_post(app, client, world, username):
    login(client, username)
    page = client.get(POLICY)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "仅统筹部门可以修改提醒规则" in text and "保存提醒规则" not in text
    assert "提前 30 天、提前 7 天、提前 1 天、到期当天" in text
    token = csrf_from(client, SETTINGS)
    data = {"csrf_token": token, "version": "0", "before_days": "1", "overdue_every_days": "1"}
    data.update(escalate_overdue_days="1", escalate_returned_days="1")
    assert client.post(POLICY, data=data).status_code == 403
    assert client.post(POLICY + "/leaders", data={"csrf_token": token}).status_code == 403
    assert _policy(app) is None


def _node(app, world):
    with app.app_context():
        plan_id = db.session.scalar(select(Plan.id).where(Plan.code == "plan-a"))
        node = db.session.scalar(
            select(PlanNode).where(PlanNode.plan_id == plan_id, PlanNode.parent_id.is_(None))
        )
        return node.id, node.leader_id


def test_plan_office_assigns_node_leaders(app, client, world):
    node_id, leader = _node(app, world)
    assert leader is None
    login(client, "office")
    page = client.get(POLICY).get_data(as_text=True)
    assert f'name="leader_{node_id}"' in page and f'value="{world["leader"]}">leader<' in page
    token = hidden(client, POLICY, "token")
    csrf = csrf_from(client, POLICY)
    # Only the region's leading group may lead a node.
    bad = client.post(
        POLICY + "/leaders", data={"csrf_token": csrf, "token": token, f"leader_{node_id}": world["police"]}
    )
    assert bad.status_code == 400 and _node(app, world)[1] is None
    ok = client.post(
        POLICY + "/leaders", data={"csrf_token": csrf, "token": token, f"leader_{node_id}": world["leader"]}
    )
    assert ok.status_code == 302 and _node(app, world)[1] == world["leader"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.leaders"))
        assert event.after == {"n1": world["leader"]} and event.region_id == world["region_a"]
    # The token from before the change is stale now.
    stale = client.post(
        POLICY + "/leaders", data={"csrf_token": csrf, "token": token, f"leader_{node_id}": "0"}
    )
    assert stale.status_code == 409 and _node(app, world)[1] == world["leader"]


def test_settings_page_links_the_users_plans(client, world):
    login(client, "office")
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'href="/plans/plan-a/reminder-policy"' in page and "plan-b" not in page
    assert 'href="/settings/notifications">提醒设置</a>' in page  # nav link
