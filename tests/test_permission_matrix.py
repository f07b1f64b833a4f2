"""The permission matrix: every route of the URL map × every kind of user × objects of region A
and region B × GET and POST, with the status each must answer.

The expected statuses are written from the product's rules (below), not from app/permissions.py,
so a route that forgets its check, or a loader that forgets its scope, shows up as a mismatch:

- anonymous: every non-public route sends to the log-in page (302 → /login);
- outside scope (another region, a department not on the milestone or indicator, another
  department's draft): 404, exactly as for an object that does not exist;
- in scope but the role lacks the permission: 403;
- plan-wide pages (load_viewable_plan) answer 403 to a department before looking at the plan,
  so another region's department learns nothing either;
- a method the route does not take: 405.

A route missing from TABLE fails test_every_route_is_in_the_table, whatever its converter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import (
    AuditEvent,
    Bulletin,
    Department,
    Dependency,
    Evidence,
    Holiday,
    Indicator,
    IndicatorValue,
    Milestone,
    Notice,
    OutboxMessage,
    Plan,
    ProgressReport,
    Region,
    ReminderDelivery,
    User,
)
from tests.conftest import csrf_from, login
from tests.factories import build_matrix_world

# ---------------------------------------------------------------------------------------------
# Users and the rules, as the product states them.

# Written out here on purpose (not imported from app.permissions): this is the specification.
PERMS = {
    "department": {"report", "answer_notice", "enter_value"},
    "plan_office": {
        "report",
        "answer_notice",
        "enter_value",
        "review",
        "direct_value",
        "extend",
        "edit_plan",
        "issue_notice",
        "view_region",
        "edit_communities",
    },
    "leading_group": {"issue_notice", "view_region"},
    "admin": {"admin", "view_all"},
    "province": {"view_all"},
    "street": {"assess_community"},
}


@dataclass(frozen=True)
class U:
    name: str
    role: str
    region: str | None  # "A" | "B"
    dept: str | None  # department key: police (A), transport (A), office (A), other (B)

    def can(self, permission: str) -> bool:
        return permission in PERMS[self.role]


USERS = {
    "anonymous": None,
    "police": U("police", "department", "A", "police"),  # department A (甲市公安局)
    "transport": U("transport", "department", "A", "transport"),  # department B, same region
    "other": U("other", "department", "B", "other"),  # a department of region B
    "office": U("office", "plan_office", "A", "office"),  # plan office A (甲市大数据中心)
    "other_office": U("other_office", "plan_office", "B", "other"),  # plan office B (乙县大数据局)
    "leader": U("leader", "leading_group", "A", None),
    "province": U("province", "province", None, None),
    "admin": U("admin", "admin", None, None),
    "street": U("street", "street", "A", "street_a"),  # 甲市东城街道: assesses its own communities
}

# Who owns the objects of each scope: region A's objects hang on milestones led by 甲市公安局,
# region B's on milestones led by 乙县大数据局; indicators are answered for by the same.
OWNER = {"A": "police", "B": "other"}

LOGIN = "log-in"  # 302 to /login
GET_OK = frozenset({200, 302})
POST_OK = frozenset({200, 302, 400, 409})  # allowed: the point is the status, minimal form data


def view_all(u):
    return u.can("view_all")


def sees_plan(u, s):
    return view_all(u) or u.region == s


def sees_milestone(u, s):
    """The milestone (and its reports, evidence, notices, dependencies) of scope s."""
    if view_all(u):
        return True
    return u.region == s and (u.can("view_region") or u.dept == OWNER[s])


sees_indicator = sees_milestone  # responsible department = the milestone's lead, in this world


def sees_draft(u, s):
    """A draft is private to its department: not the plan office, not the province, not admin."""
    return sees_milestone(u, s) and u.dept == OWNER[s]


def owns(u, s):
    return u.dept == OWNER[s]


def rule(
    see: Callable | None = None,
    perm: str | None = None,
    viewer: bool = False,
    also: Callable | None = None,
    ok=None,
    public: bool = False,
):
    """The expected statuses of one method of one route, as a function (user, scope) → set.

    Checks in the order the product states: log-in, plan-viewer role (plan-wide pages),
    scope (404), permission (403), a further rule `also` (403 when it returns False)."""

    def expected(u, s, method):
        good = ok if ok is not None else (GET_OK if method == "GET" else POST_OK)
        if public:
            return good
        if u is None:
            return LOGIN
        if viewer and not (u.can("view_region") or u.can("view_all")):
            return {403}
        if see is not None and not see(u, s):
            return {404}
        if perm is not None and not u.can(perm):
            return {403}
        if also is not None and not also(u, s):
            return {403}
        return good

    return expected


# ---------------------------------------------------------------------------------------------
# The table: rule string → cases; each case builds a URL for scope A and/or B (or no scope).


@dataclass
class Case:
    url: str  # format string over the ids of its scope
    get: Callable | None = None
    post: Callable | None = None
    scopes: tuple = ("A", "B")


def ids(w, s):
    if s is None:
        return dict(holiday=w["holiday"], delivery=w["delivery"], outbox=w["outbox"])
    t = s.lower()
    ms_id = w["m_far"] if s == "A" else w["m_other"]
    return dict(
        code=f"plan-{t}",
        ms=ms_id,
        node=w["node_a"] if s == "A" else w["node_b"],
        draft=w[f"draft_{t}"],
        report=w[f"report_{t}"],
        evidence=w[f"evidence_{t}"],
        draft_evidence=w[f"draft_evidence_{t}"],
        notice=w[f"notice_{t}"],
        indicator=w[f"indicator_{t}"],
        value=w[f"value_{t}"],
        dependency=w[f"dependency_{t}"],
        bulletin=w[f"bulletin_{t}"],
        user=w["police"] if s == "A" else w["other"],
        community=w[f"community_{t}"],
        community_item=w[f"community_item_{t}"],
        community_evidence=w[f"community_evidence_{t}"],
        dept=w["police_dept"] if s == "A" else w["other_dept"],
    )


NONE = (None,)
logged_in = rule()
admin = rule(perm="admin")
public = rule(public=True)
ms = dict(see=sees_milestone)
plan_page = rule(viewer=True, see=sees_plan)  # load_viewable_plan
plan_page_400 = rule(viewer=True, see=sees_plan, ok={200, 302, 400})


def _issuer(u, s):
    # 督办 answers are reviewed by their issuer: leader (A), other_office (B).
    return u.name == {"A": "leader", "B": "other_office"}[s]


def _department_of(u, s):
    return u.dept == OWNER[s]


def _on_milestone(u, s):
    # report_kind_for: the user's department leads or co-leads the milestone.
    return u.dept == OWNER[s]


def _enters(u, s):
    # _can_enter: the plan office of the region, or a responsible department.
    return u.can("view_region") or u.dept == OWNER[s]


# The open API: only a Bearer token authenticates it, so with the session cookie of the
# matrix every user — the anonymous too — is answered 401 (its own scope and permission
# tests run with tokens: tests/api/ and tests/test_permissions.py).
api_session = rule(public=True, ok={401})


def _api(url, post=False, get=True, scopes=NONE):
    return [Case(url, get=api_session if get else None, post=api_session if post else None, scopes=scopes)]


# Communities (智慧社区): the 街道 office of a community (甲市东城街道 in A, 乙县城关镇 in B)
# sees and assesses it; the region's plan office and leading group see it; province and admin
# all. Everyone else: 404 on a community object; 403 on the region-wide pages.
COMMUNITY_STREET = {"A": "street_a", "B": "street_b"}


def sees_community(u, s):
    if view_all(u):
        return True
    return u.region == s and (
        u.can("view_region") or (u.can("assess_community") and u.dept == COMMUNITY_STREET[s])
    )


def community_page(perm=None, ok=None):
    """The region-wide pages (/communities …): viewers of communities only."""

    def expected(u, s, method):
        if u is None:
            return LOGIN
        if not (u.can("view_region") or u.can("view_all") or u.can("assess_community")):
            return {403}
        if perm is not None and not u.can(perm):
            return {403}
        return ok or (GET_OK if method == "GET" else POST_OK)

    return expected


def _assesses(u, s):
    return u.dept == COMMUNITY_STREET[s]


community = dict(see=sees_community)

TABLE: dict[str, list[Case]] = {
    # Public.
    "/static/<path:filename>": [Case("/static/style.css", get=public, scopes=NONE)],
    "/static/packs/<path:filename>": [Case("/static/packs/packs.css", get=public, scopes=NONE)],
    "/bulletins/static/<path:filename>": [Case("/bulletins/static/bulletins.css", get=public, scopes=NONE)],
    "/dashboard/static/<path:filename>": [Case("/dashboard/static/dashboard.css", get=public, scopes=NONE)],
    "/login": [
        Case(
            "/login",
            # The log-in page: open to all; a signed-in user is sent home.
            get=lambda u, s, m: {200} if u is None else {302},
            # Empty form: shown again (200) to the anonymous, home (302) when signed in.
            post=lambda u, s, m: {200, 400} if u is None else {302},
            scopes=NONE,
        )
    ],
    "/": [Case("/", get=rule(ok={302}), scopes=NONE)],
    "/logout": [Case("/logout", post=rule(ok={302}), scopes=NONE)],
    # Every signed-in user.
    "/my": [Case("/my", get=logged_in, scopes=NONE)],
    "/notifications": [Case("/notifications", get=logged_in, scopes=NONE)],
    "/notifications/read": [Case("/notifications/read", post=logged_in, scopes=NONE)],
    "/settings/notifications": [Case("/settings/notifications", get=logged_in, post=logged_in, scopes=NONE)],
    # The user's own password (an empty form: 400 with the form's messages).
    "/settings/password": [Case("/settings/password", get=logged_in, post=logged_in, scopes=NONE)],
    # By role only.
    "/review": [Case("/review", get=rule(perm="review"), scopes=NONE)],
    "/notices": [Case("/notices", get=rule(perm="issue_notice"), scopes=NONE)],
    "/province": [Case("/province", get=rule(perm="view_all"), scopes=NONE)],
    "/province.xlsx": [Case("/province.xlsx", get=rule(perm="view_all"), scopes=NONE)],
    "/plans": [Case("/plans", get=rule(viewer=True), scopes=NONE)],
    "/dashboard": [Case("/dashboard", get=rule(viewer=True), scopes=NONE)],
    "/packs": [Case("/packs", get=rule(viewer=True), scopes=NONE)],
    # Admin.
    "/admin/users": [Case("/admin/users", get=admin, scopes=NONE)],
    "/admin/users/new": [Case("/admin/users/new", get=admin, post=admin, scopes=NONE)],
    "/admin/users/<int:user_id>": [Case("/admin/users/{user}", get=admin, post=admin)],
    "/admin/users/<int:user_id>/notifications": [
        Case("/admin/users/{user}/notifications", get=admin, post=admin)
    ],
    "/admin/departments": [Case("/admin/departments", get=admin, post=admin, scopes=NONE)],
    "/admin/departments/<int:dept_id>": [Case("/admin/departments/{dept}", get=admin, post=admin)],
    "/admin/departments/<int:dept_id>/webhook-test": [
        Case("/admin/departments/{dept}/webhook-test", post=admin)
    ],
    "/admin/regions": [Case("/admin/regions", get=admin, post=admin, scopes=NONE)],
    "/admin/holidays": [Case("/admin/holidays", get=admin, scopes=NONE)],
    "/admin/holidays/add": [Case("/admin/holidays/add", post=admin, scopes=NONE)],
    "/admin/holidays/bulk": [Case("/admin/holidays/bulk", post=admin, scopes=NONE)],
    "/admin/holidays/delete": [Case("/admin/holidays/delete", post=admin, scopes=NONE)],
    "/admin/queues": [Case("/admin/queues", get=admin, scopes=NONE)],
    "/admin/queues/requeue": [Case("/admin/queues/requeue", post=admin, scopes=NONE)],
    "/admin/queues/delete": [Case("/admin/queues/delete", post=admin, scopes=NONE)],
    "/admin/reminders": [Case("/admin/reminders", get=admin, scopes=NONE)],
    "/admin/reminders/retry": [Case("/admin/reminders/retry", post=admin, scopes=NONE)],
    "/admin/outbox": [Case("/admin/outbox", get=admin, scopes=NONE)],
    "/admin/outbox/<int:message_id>": [Case("/admin/outbox/{outbox}", get=admin, scopes=NONE)],
    # Communities.
    "/communities/static/<path:filename>": [
        Case("/communities/static/communities.css", get=public, scopes=NONE)
    ],
    "/communities": [Case("/communities", get=community_page(), scopes=NONE)],
    "/communities.xlsx": [Case("/communities.xlsx", get=community_page(), scopes=NONE)],
    "/communities/rule": [Case("/communities/rule", post=rule(perm="edit_communities"), scopes=NONE)],
    "/communities/new": [
        Case(
            "/communities/new",
            get=rule(perm="edit_communities"),
            post=rule(perm="edit_communities"),
            scopes=NONE,
        )
    ],
    "/communities/import": [
        Case(
            "/communities/import",
            get=rule(perm="edit_communities"),
            post=rule(perm="edit_communities"),
            scopes=NONE,
        )
    ],
    "/communities/import-template.xlsx": [
        Case("/communities/import-template.xlsx", get=rule(perm="edit_communities"), scopes=NONE)
    ],
    "/communities/<int:community_id>": [
        Case(
            "/communities/{community}",
            get=rule(**community),
            post=rule(**community, perm="assess_community", also=_assesses),
        )
    ],
    "/communities/<int:community_id>/approve-all": [
        Case("/communities/{community}/approve-all", post=rule(**community, perm="review"))
    ],
    "/communities/<int:community_id>/edit": [
        Case(
            "/communities/{community}/edit",
            get=rule(**community, perm="edit_communities"),
            post=rule(**community, perm="edit_communities"),
        )
    ],
    "/community-items/<int:item_id>/approve": [
        Case("/community-items/{community_item}/approve", post=rule(**community, perm="review"))
    ],
    "/community-items/<int:item_id>/return": [
        Case("/community-items/{community_item}/return", post=rule(**community, perm="review"))
    ],
    "/community-evidence/<int:evidence_id>": [
        Case("/community-evidence/{community_evidence}", get=rule(**community))
    ],
    # The factory's file is on a submitted item: even its street may not take it off (403).
    "/community-evidence/<int:evidence_id>/delete": [
        Case(
            "/community-evidence/{community_evidence}/delete",
            post=rule(**community, perm="assess_community", ok={403}),
        )
    ],
    # Milestones.
    "/milestones/<int:milestone_id>": [Case("/milestones/{ms}", get=rule(**ms))],
    "/milestones/<int:milestone_id>/report": [
        Case(
            "/milestones/{ms}/report",
            get=rule(**ms, perm="report", also=_on_milestone),
            post=rule(**ms, perm="report", also=_on_milestone),
        )
    ],
    "/milestones/<int:milestone_id>/notices": [
        Case("/milestones/{ms}/notices", post=rule(**ms, perm="issue_notice"))
    ],
    "/milestones/<int:milestone_id>/predecessor-options": [
        Case("/milestones/{ms}/predecessor-options", get=rule(**ms, perm="edit_plan"))
    ],
    "/milestones/<int:milestone_id>/dependencies": [
        Case("/milestones/{ms}/dependencies", post=rule(**ms, perm="edit_plan"))
    ],
    "/milestones/<int:milestone_id>/extend": [
        Case("/milestones/{ms}/extend", get=rule(**ms, perm="extend"), post=rule(**ms, perm="extend"))
    ],
    "/milestones/<int:milestone_id>/edit": [
        Case("/milestones/{ms}/edit", get=rule(**ms, perm="edit_plan"), post=rule(**ms, perm="edit_plan"))
    ],
    "/dependencies/<int:dependency_id>/delete": [
        Case("/dependencies/{dependency}/delete", post=rule(**ms, perm="edit_plan"))
    ],
    # Reports: a submitted one (milestone scope) and a draft (its department only).
    "/reports/<int:report_id>/edit": [
        # Submitted: only its department may open it (then told it cannot be changed: 302).
        Case(
            "/reports/{report}/edit",
            get=rule(**ms, perm="report", also=owns),
            post=rule(**ms, perm="report", also=owns),
        ),
        Case(
            "/reports/{draft}/edit",
            get=rule(see=sees_draft, perm="report"),
            post=rule(see=sees_draft, perm="report"),
        ),
    ],
    "/reports/<int:report_id>/evidence/<int:evidence_id>/delete": [
        # A submitted report's evidence cannot be removed, even by its department: 403.
        Case("/reports/{report}/evidence/{evidence}/delete", post=rule(**ms, perm="report", ok={403})),
        Case("/reports/{draft}/evidence/{draft_evidence}/delete", post=rule(see=sees_draft, perm="report")),
    ],
    "/review/reports/<int:report_id>": [
        Case("/review/reports/{report}", get=rule(**ms, perm="review")),
        Case("/review/reports/{draft}", get=rule(see=sees_draft, perm="review")),
    ],
    "/review/reports/<int:report_id>/approve": [
        Case("/review/reports/{report}/approve", post=rule(**ms, perm="review")),
        # Nobody but the department sees a draft; plan office B is also 乙县大数据局 here.
        Case("/review/reports/{draft}/approve", post=rule(see=sees_draft, perm="review")),
    ],
    "/review/reports/<int:report_id>/return": [
        Case("/review/reports/{report}/return", post=rule(**ms, perm="review")),
        Case("/review/reports/{draft}/return", post=rule(see=sees_draft, perm="review")),
    ],
    "/evidence/<int:evidence_id>": [
        Case("/evidence/{evidence}", get=rule(**ms, ok={200})),
        Case("/evidence/{draft_evidence}", get=rule(see=sees_draft, ok={200})),
    ],
    # 督办.
    "/notices/<int:notice_id>/answer": [
        Case(
            "/notices/{notice}/answer",
            get=rule(**ms, perm="answer_notice", also=_department_of),
            post=rule(**ms, perm="answer_notice", also=_department_of),
        )
    ],
    "/notices/<int:notice_id>/acknowledge": [
        Case("/notices/{notice}/acknowledge", post=rule(**ms, perm="answer_notice", also=_department_of))
    ],
    "/notices/<int:notice_id>/accept": [
        Case("/notices/{notice}/accept", post=rule(**ms, perm="issue_notice", also=_issuer))
    ],
    "/notices/<int:notice_id>/return": [
        Case("/notices/{notice}/return", post=rule(**ms, perm="issue_notice", also=_issuer))
    ],
    # Indicators.
    "/indicators/<int:indicator_id>": [Case("/indicators/{indicator}", get=rule(see=sees_indicator))],
    "/indicators/<int:indicator_id>/values": [
        Case(
            "/indicators/{indicator}/values", post=rule(see=sees_indicator, perm="enter_value", also=_enters)
        )
    ],
    "/indicator-values/<int:value_id>/approve": [
        Case("/indicator-values/{value}/approve", post=rule(see=sees_indicator, perm="review"))
    ],
    "/indicator-values/<int:value_id>/return": [
        Case("/indicator-values/{value}/return", post=rule(see=sees_indicator, perm="review"))
    ],
    # Bulletins: every user of the plan's region may read one (the link is sent to all).
    "/bulletins/<int:bulletin_id>": [Case("/bulletins/{bulletin}", get=rule(see=sees_plan))],
    "/bulletins/<int:bulletin_id>.xlsx": [Case("/bulletins/{bulletin}.xlsx", get=rule(see=sees_plan))],
    # Plan-wide pages keyed by <code>.
    "/plans/<code>": [Case("/plans/{code}", get=plan_page)],
    "/plans/<code>/assessment": [Case("/plans/{code}/assessment", get=plan_page)],
    "/plans/<code>/bulletins": [Case("/plans/{code}/bulletins", get=plan_page)],
    "/plans/<code>/bulletins/issue": [
        Case("/plans/{code}/bulletins/issue", post=rule(viewer=True, see=sees_plan, perm="issue_notice"))
    ],
    "/plans/<code>/dashboard": [Case("/plans/{code}/dashboard", get=plan_page)],
    "/plans/<code>/dashboard/list": [Case("/plans/{code}/dashboard/list", get=plan_page)],
    "/plans/<code>/export.xlsx": [Case("/plans/{code}/export.xlsx", get=plan_page)],
    "/plans/<code>/nodes/<int:node_id>/children": [
        Case("/plans/{code}/nodes/{node}/children", get=plan_page)
    ],
    "/plans/<code>/gantt": [Case("/plans/{code}/gantt", get=plan_page)],
    "/plans/<code>/gantt.json": [Case("/plans/{code}/gantt.json", get=plan_page)],
    "/plans/<code>/graph": [Case("/plans/{code}/graph", get=plan_page)],
    "/plans/<code>/graph.json": [Case("/plans/{code}/graph.json", get=plan_page)],
    "/plans/<code>/indicator-charts": [Case("/plans/{code}/indicator-charts", get=plan_page)],
    "/plans/<code>/indicator-charts.json": [Case("/plans/{code}/indicator-charts.json", get=plan_page)],
    # This world's plans name no evaluation standard: a viewer is told so (400).
    "/plans/<code>/self-assessment": [Case("/plans/{code}/self-assessment", get=plan_page_400)],
    "/plans/<code>/self-assessment.zip": [Case("/plans/{code}/self-assessment.zip", get=plan_page_400)],
    "/plans/<code>/stars": [Case("/plans/{code}/stars", get=plan_page)],
    "/plans/<code>/stars/what-if": [Case("/plans/{code}/stars/what-if", post=plan_page)],
    "/plans/<code>/stars/recompute": [
        Case("/plans/{code}/stars/recompute", post=rule(viewer=True, see=sees_plan, perm="edit_plan"))
    ],
    "/plans/<code>/stars/costs": [
        Case(
            "/plans/{code}/stars/costs",
            get=rule(viewer=True, see=sees_plan, perm="edit_plan"),
            post=rule(viewer=True, see=sees_plan, perm="edit_plan"),
        )
    ],
    # Plan routes (load_plan): the region's departments see the plan, the role decides the rest.
    "/plans/<code>/indicators": [Case("/plans/{code}/indicators", get=rule(see=sees_plan))],
    "/plans/<code>/import": [
        Case(
            "/plans/{code}/import",
            get=rule(see=sees_plan, perm="edit_plan"),
            post=rule(see=sees_plan, perm="edit_plan"),
        )
    ],
    "/plans/<code>/import/apply": [
        Case("/plans/{code}/import/apply", post=rule(see=sees_plan, perm="edit_plan"))
    ],
    "/plans/<code>/reminder-policy": [
        # Read by everyone of the region; changed by the plan office.
        Case(
            "/plans/{code}/reminder-policy",
            get=rule(see=sees_plan),
            post=rule(see=sees_plan, perm="edit_plan"),
        )
    ],
    "/plans/<code>/reminder-policy/leaders": [
        Case("/plans/{code}/reminder-policy/leaders", post=rule(see=sees_plan, perm="edit_plan"))
    ],
    "/plans/<code>/standard-values": [
        Case("/plans/{code}/standard-values", get=rule(see=sees_plan, perm="direct_value"))
    ],
    "/plans/<code>/standard-values/<number>": [
        Case("/plans/{code}/standard-values/1.1", post=rule(see=sees_plan, perm="direct_value"))
    ],
    # The open API (issue 13). One's own tokens: every signed-in user; another's token id → 404.
    "/settings/api-tokens": [Case("/settings/api-tokens", get=logged_in, post=logged_in, scopes=NONE)],
    "/settings/api-tokens/<int:token_id>/revoke": [
        Case("/settings/api-tokens/999/revoke", post=rule(see=lambda u, s: False), scopes=NONE)
    ],
    "/api/v1/openapi.json": [Case("/api/v1/openapi.json", get=public, scopes=NONE)],
    "/api/v1/docs": [Case("/api/v1/docs", get=public, scopes=NONE)],
    "/api/v1/plans": _api("/api/v1/plans"),
    "/api/v1/plans/<code>": _api("/api/v1/plans/{code}", scopes=("A", "B")),
    "/api/v1/plans/<code>/nodes": _api("/api/v1/plans/{code}/nodes", scopes=("A", "B")),
    "/api/v1/plans/<code>/scores": _api("/api/v1/plans/{code}/scores", scopes=("A", "B")),
    "/api/v1/plans/<code>/forecasts": _api("/api/v1/plans/{code}/forecasts", scopes=("A", "B")),
    "/api/v1/plans/<code>/forecasts/<int:run_id>": _api(
        "/api/v1/plans/{code}/forecasts/1", scopes=("A", "B")
    ),
    "/api/v1/milestones": _api("/api/v1/milestones"),
    "/api/v1/milestones/<int:milestone_id>": _api("/api/v1/milestones/{ms}", scopes=("A", "B")),
    "/api/v1/milestones/<int:milestone_id>/reports": _api(
        "/api/v1/milestones/{ms}/reports", post=True, scopes=("A", "B")
    ),
    "/api/v1/reports/<int:report_id>": _api("/api/v1/reports/{report}", scopes=("A", "B")),
    "/api/v1/indicators": _api("/api/v1/indicators"),
    "/api/v1/indicators/<int:indicator_id>": _api("/api/v1/indicators/{indicator}", scopes=("A", "B")),
    "/api/v1/indicators/<int:indicator_id>/values": _api(
        "/api/v1/indicators/{indicator}/values", post=True, scopes=("A", "B")
    ),
    "/api/v1/notices": _api("/api/v1/notices"),
    "/api/v1/notices/<int:notice_id>": _api("/api/v1/notices/{notice}", scopes=("A", "B")),
    "/api/v1/notices/<int:notice_id>/answer": _api(
        "/api/v1/notices/{notice}/answer", get=False, post=True, scopes=("A", "B")
    ),
    "/api/v1/reminders": _api("/api/v1/reminders"),
}


# ---------------------------------------------------------------------------------------------
# The guard.


def untabled(app) -> list[str]:
    """Rules of the app's URL map the table does not list (compared as rule strings)."""
    return sorted({r.rule for r in app.url_map.iter_rules()} - set(TABLE))


def test_every_route_is_in_the_table(app):
    """A new route, whatever its converter (int, string, path, a blueprint's static files),
    must join TABLE with its expected statuses; a removed one must leave it."""
    missing = untabled(app)
    assert not missing, "routes missing from the permission table (tests/test_permission_matrix.py): " + (
        ", ".join(missing)
    )
    rules = {r.rule: r for r in app.url_map.iter_rules()}
    stale = sorted(set(TABLE) - set(rules))
    assert not stale, f"table rows for routes that no longer exist: {stale}"
    for path, cases in TABLE.items():
        methods = rules[path].methods
        for case in cases:
            for method in ("GET", "POST"):
                has = getattr(case, method.lower()) is not None
                assert has == (method in methods), f"{path}: {method} in the table ≠ in the route"


def test_the_guard_names_a_new_route_of_any_converter(app):
    """Routes added with a string, path, int or float argument are each named by the guard."""
    fresh = create_app({**app.config, "TESTING": True})
    added = ["/x/<code>", "/x/<path:rest>", "/x/<int:n>/go", "/x/<float:f>", "/x/<uuid:u>"]
    for i, path in enumerate(added):
        fresh.add_url_rule(path, f"extra{i}", lambda **kw: "")
    assert untabled(fresh) == sorted(added)


# ---------------------------------------------------------------------------------------------
# The matrix.


@dataclass
class Request:
    path: str
    method: str
    url: str
    scope: str | None
    expected: object


def requests_for(w, u):
    """Every (route, method, URL) of the table with what `u` must get; the 405s too.
    GETs first, then POSTs; the log-out last."""
    gets, posts = [], []
    for path, cases in TABLE.items():
        for case in cases:
            for s in case.scopes:
                url = case.url.format(**ids(w, s))
                for method, bucket in (("GET", gets), ("POST", posts)):
                    policy = getattr(case, method.lower())
                    expected = {405} if policy is None else policy(u, s, method)
                    bucket.append(Request(path, method, url, s, expected))
    posts.sort(key=lambda r: r.path == "/logout")
    return gets + posts


def fingerprint(region_key):
    """Every row of a region's plan (and its audit events): what an outsider must not change."""
    region = db.session.scalar(select(Region.id).where(Region.name == {"A": "甲市", "B": "乙县"}[region_key]))
    plan_ids = select(Plan.id).where(Plan.region_id == region)
    ms_ids = select(Milestone.id).where(Milestone.plan_id.in_(plan_ids))
    ind_ids = select(Indicator.id).where(Indicator.plan_id.in_(plan_ids))
    queries = [
        select(Plan).where(Plan.region_id == region),
        select(Milestone).where(Milestone.id.in_(ms_ids)),
        select(ProgressReport).where(ProgressReport.milestone_id.in_(ms_ids)),
        select(Evidence).where(Evidence.milestone_id.in_(ms_ids)),
        select(Notice).where(Notice.milestone_id.in_(ms_ids)),
        select(Dependency).where(Dependency.plan_id.in_(plan_ids)),
        select(Indicator).where(Indicator.id.in_(ind_ids)),
        select(IndicatorValue).where(IndicatorValue.indicator_id.in_(ind_ids)),
        select(Bulletin).where(Bulletin.plan_id.in_(plan_ids)),
    ]
    rows = [_rows(q) for q in queries]
    rows.append(db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.region_id == region)))
    return rows


def admin_fingerprint():
    users = db.session.execute(
        select(User.id, User.username, User.role, User.active, User.region_id, User.department_id)
    ).all()
    rest = [_rows(select(m)) for m in (Department, Region, Holiday, ReminderDelivery, OutboxMessage)]
    return [sorted(users), *rest]


def _rows(stmt):
    objs = db.session.scalars(stmt).all()
    return sorted(tuple(str(getattr(o, c.key)) for c in o.__table__.columns) for o in objs)


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_matrix_world()
        w.ids["node_a"] = db.session.get(Milestone, w["m_far"]).node_id  # the plan tree's node fragment
        w.ids["node_b"] = db.session.get(Milestone, w["m_other"]).node_id
        db.session.remove()
    return w


def _writes(reqs, scope):
    """Whether any POST of the user on scope's objects is expected to be let through."""
    return any(
        r.method == "POST" and r.scope == scope and r.expected not in (LOGIN, {403}, {404}, {405})
        for r in reqs
        if r.path != "/logout"
    )


@pytest.mark.parametrize("username", list(USERS))
def test_permission_matrix(app, world, username):
    """One user against every route, for objects of A and of B, GET and POST."""
    u = USERS[username]
    client = app.test_client()
    if u is None:
        token = csrf_from(client, "/login")
    else:
        login(client, username)
        token = csrf_from(client, "/notifications")
    reqs = requests_for(world, u)
    with app.app_context():
        before = {s: fingerprint(s) for s in ("A", "B")}
        before_admin = admin_fingerprint()
        db.session.remove()

    wrong = []
    for r in reqs:
        if r.method == "GET":
            response = client.get(r.url)
        else:
            response = client.post(r.url, data={"csrf_token": token})
        status = response.status_code
        if r.expected == LOGIN:
            good = status == 302 and "/login" in response.headers.get("Location", "")
        else:
            good = status in r.expected
        if not good:
            wrong.append(f"{r.method} {r.url} [{r.path}]: got {status}, expected {sorted(r.expected)}")
        elif (
            status == 200
            and response.mimetype == "text/html"
            and "<html" in (body := response.get_data(as_text=True))
        ):
            # Every page a user opens has a plain-text title (a template that lost an
            # {% endblock %} puts a whole section into <title>); fragments have none.
            title = re.search(r"<title>(.*?)</title>", body, re.S)
            if title is None or "<" in title.group(1) or "\n" in title.group(1).strip():
                wrong.append(f"{r.method} {r.url} [{r.path}]: no plain <title>")
    assert not wrong, f"{username}: {len(wrong)} of {len(reqs)} requests answered wrongly:\n" + "\n".join(
        wrong
    )

    # Outsiders wrote nothing: a scope the user may not write to is unchanged, row for row.
    with app.app_context():
        for s in ("A", "B"):
            if not _writes(reqs, s):
                assert fingerprint(s) == before[s], f"{username} changed region {s}'s data"
        if u is None or not u.can("admin"):
            assert admin_fingerprint() == before_admin, f"{username} changed users, departments or holidays"
        db.session.remove()
