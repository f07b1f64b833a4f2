"""Every read endpoint with a token: 200 and JSON in its page envelope; the same scope as the
pages (another region's objects → 404, a department on plan-wide reads → 403, the reminder
log for administrators only); pagination and the milestone filters."""

import pytest

from tests.api.conftest import bearer


def _paths(w, s="a"):
    code = f"plan-{s}"
    return [
        "/api/v1/plans",
        f"/api/v1/plans/{code}",
        f"/api/v1/plans/{code}/nodes",
        f"/api/v1/plans/{code}/scores",
        f"/api/v1/plans/{code}/forecasts",
        "/api/v1/milestones",
        f"/api/v1/milestones/{w['m_far' if s == 'a' else 'm_other']}",
        f"/api/v1/milestones/{w['m_late' if s == 'a' else 'm_other']}/reports",
        f"/api/v1/reports/{w['report_' + s]}",
        "/api/v1/indicators",
        f"/api/v1/indicators/{w['indicator_' + s]}",
        f"/api/v1/indicators/{w['indicator_' + s]}/values",
        "/api/v1/notices",
        f"/api/v1/notices/{w['notice_' + s]}",
        "/api/v1/reminders",
    ]


LISTS = {"items", "page", "per_page", "total", "pages"}


def test_admin_token_reaches_every_read_with_200_and_json(client, world, token):
    headers = bearer(token("admin"))
    for path in _paths(world):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert response.is_json, path
        if "/plans/plan-a/" not in path and path.rsplit("/", 1)[-1] in {
            "plans",
            "milestones",
            "reports",
            "indicators",
            "values",
            "notices",
            "reminders",
            "nodes",
            "forecasts",
        }:
            assert LISTS <= set(response.json), path


@pytest.mark.parametrize("username", ["office", "leader", "province"])
def test_viewers_read_their_region(client, world, token, username):
    headers = bearer(token(username))
    for path in _paths(world):
        expected = 403 if path.endswith("/reminders") else 200
        assert client.get(path, headers=headers).status_code == expected, path


def test_another_regions_objects_are_404(client, world, token):
    for username in ("office", "police", "leader"):
        headers = bearer(token(username))
        for path in _paths(world, "b"):
            if path.count("/") <= 3:  # lists: scoped, not refused
                continue
            response = client.get(path, headers=headers)
            if username == "police" and "/plans/plan-b/" in path and path != "/api/v1/plans/plan-b":
                assert response.status_code == 403, path  # plan-wide reads: role first, as the pages
                continue
            assert response.status_code == 404, (username, path, response.status_code)
            assert response.json["error"]["code"] == "not_found"


def test_department_sees_its_own_and_is_refused_plan_wide_reads(client, world, token):
    headers = bearer(token("transport"))  # no milestone of its own in the matrix world but m3
    ids = {m["id"] for m in client.get("/api/v1/milestones", headers=headers).json["items"]}
    assert ids == {world["m_transport"], world["m_police"]}  # lead of m3, co-department of m1
    assert client.get(f"/api/v1/milestones/{world['m_far']}", headers=headers).status_code == 404
    assert client.get("/api/v1/plans/plan-a/nodes", headers=headers).status_code == 403
    assert client.get("/api/v1/plans/plan-a/scores", headers=headers).status_code == 403
    assert client.get("/api/v1/reminders", headers=headers).status_code == 403
    assert client.get("/api/v1/indicators", headers=headers).json["items"] == []


def test_department_does_not_see_other_departments_drafts(client, world, token):
    office = bearer(token("office"))
    assert client.get(f"/api/v1/reports/{world['draft_a']}", headers=office).status_code == 404
    police = bearer(token("police"))
    assert client.get(f"/api/v1/reports/{world['draft_a']}", headers=police).status_code == 200
    listed = client.get(f"/api/v1/milestones/{world['m_far']}/reports", headers=office).json
    assert listed["total"] == 0


def test_pagination(client, world, token):
    headers = bearer(token("admin"))
    everything = client.get("/api/v1/milestones", headers=headers).json
    assert everything["total"] == 6 and everything["pages"] == 1
    pages = [client.get(f"/api/v1/milestones?per_page=4&page={p}", headers=headers).json for p in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [4, 2, 0]
    assert pages[0]["pages"] == 2 and pages[0]["total"] == 6
    assert [m["id"] for p in pages for m in p["items"]] == [m["id"] for m in everything["items"]]
    bad = client.get("/api/v1/milestones?per_page=1000", headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unprocessable_entity"
    assert "per_page" in bad.json["error"]["message"]


def test_milestone_filters_and_tri_colour(client, world, token):
    headers = bearer(token("office"))
    get = lambda q: client.get(f"/api/v1/milestones?{q}", headers=headers).json["items"]  # noqa: E731
    overdue = get("overdue=true")
    assert [m["id"] for m in overdue] == [world["m_late"]]  # due 2021-02-28, today 2021-03-15
    assert overdue[0]["tri_colour"]["colour"] == "red"
    red = get("colour=red")
    assert world["m_late"] in {m["id"] for m in red} and all(m["tri_colour"]["colour"] == "red" for m in red)
    assert {m["id"] for m in get("due_from=2021-06-01&due_to=2021-12-31")} == {
        world["m_transport"],
        world["m_far"],
    }
    assert {m["id"] for m in get(f"department={world['transport_dept']}")} == {
        world["m_transport"],
        world["m_police"],
    }
    assert {m["status"] for m in get("status=in_progress")} == {"in_progress"}
    assert get("plan=plan-b") == []  # another region's plan: nothing, not an error


def test_milestone_and_report_carry_an_etag_of_their_version(client, world, token):
    headers = bearer(token("police"))
    m = client.get(f"/api/v1/milestones/{world['m_far']}", headers=headers)
    assert m.headers["ETag"] == f'"milestone-{world["m_far"]}-v{m.json["version"]}"'
    r = client.get(f"/api/v1/reports/{world['report_a']}", headers=headers)
    assert r.headers["ETag"] == f'"progressreport-{world["report_a"]}-v{r.json["version"]}"'


def test_unknown_path_and_wrong_method_answer_in_the_error_shape(client, world, token):
    headers = bearer(token("police"))
    response = client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    response = client.delete("/api/v1/plans", headers=headers)
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_a_server_error_answers_in_the_error_shape(app, client, world, token):
    headers = bearer(token("police"))
    endpoint = "api_plans.plans"
    original = app.view_functions[endpoint]

    def broken(*args, **kwargs):
        raise RuntimeError("planted")

    app.view_functions[endpoint] = broken
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    try:
        response = client.get("/api/v1/plans", headers=headers)
    finally:
        app.view_functions[endpoint] = original
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert (
        response.json["error"]["code"] == "internal_error"
        and "服务器内部错误" in response.json["error"]["message"]
    )
    assert "planted" not in response.get_data(as_text=True)


def test_bad_input_is_named_in_chinese(client, world, token):
    headers = bearer(token("office"))
    bad_date = client.get("/api/v1/milestones?due_from=2021-13-01", headers=headers).json["error"]
    assert (
        bad_date["status"] == 422
        and bad_date["message"] == "请求参数未通过校验：due_from：应为 YYYY-MM-DD 格式的日期"
    )
    url = f"/api/v1/indicators/{world['indicator_a']}/values"
    broken = client.post(url, headers=headers, data="{bad", content_type="application/json")
    assert broken.status_code == 400 and "JSON 格式有误" in broken.json["error"]["message"]
    listed = client.post(url, headers=headers, json=[1, 2]).json["error"]
    assert listed["status"] == 422 and "应为 JSON 对象" in listed["message"]
