"""Which changes count: those that can move a plan's forecast (data_version and
content_version) and those that only show on its pages (content_version)."""

from __future__ import annotations

from app.models import (
    Bulletin,
    Community,
    CommunityItem,
    CommunityRule,
    Department,
    Dependency,
    Evidence,
    Extension,
    ForecastRun,
    Indicator,
    IndicatorValue,
    Milestone,
    Notice,
    NoticeRound,
    Plan,
    PlanNode,
    ProgressReport,
    Region,
    ReminderPolicy,
    User,
)

_STAMPS = {"created_at", "updated_at", "version"}
VERSIONS = {"data_version", "content_version"}
# Attributes whose change does not move the forecast, per model (all others do).
IGNORED = {
    Plan: _STAMPS | VERSIONS | {"nodes", "region"},
    PlanNode: _STAMPS | {"leader_id", "text", "departments", "children", "milestones"},
    Milestone: _STAMPS | {"text", "source", "co_departments"},
    Dependency: _STAMPS | {"predecessor", "successor"},
    Extension: _STAMPS | {"milestone", "granted_by"},
    Indicator: _STAMPS | {"departments", "values"},
}
APPROVED_ONLY = {ProgressReport: "state", IndicatorValue: "state"}
# Shown on the plan's pages (content_version): any change but the version numbers.
SHOWN = (
    *IGNORED,
    *APPROVED_ONLY,
    Department,
    Evidence,
    Notice,
    NoticeRound,
    ReminderPolicy,
    ForecastRun,
    Bulletin,
    Region,
    User,
    Community,
    CommunityItem,
    CommunityRule,
)
# What a user row holds that no page shows (a log-in, a log-out, a password).
_USER_UNSHOWN = VERSIONS | _STAMPS | {"last_login_at", "session_version", "password_hash"}
# Tables written with Core statements through the session.
TABLE_IGNORED = {"plan_node": {"leader_id", "updated_at", "text"}, "plan": {"updated_at"}}
FORECAST_TABLES = {
    "plan",
    "plan_node",
    "milestone",
    "dependency",
    "extension",
    "indicator",
    "indicator_value",
    "milestone_indicator",
    "department",
}
SHOWN_TABLES = FORECAST_TABLES | {
    "progress_report",
    "evidence",
    "notice",
    "notice_round",
    "reminder_policy",
    "forecast_run",
    "bulletin",
    "node_department",
    "milestone_co_department",
    "indicator_department",
    "community",
    "community_item",
    "community_rule",
}


def values_of(state, key) -> list:
    """Every value an attribute had or has in this flush (old and new)."""
    hist = state.attrs[key].load_history()
    return [v for v in (*hist.added, *hist.unchanged, *hist.deleted) if v is not None]


def changed(state, ignored) -> bool:
    # .history, not .load_history(): an attribute never loaded was not changed (no lazy loads)
    return any(attr.key not in ignored and attr.history.has_changes() for attr in state.attrs)


def moves_forecast(obj, state, kind: str) -> bool:
    """Can this change move the plan's forecast?"""
    model = type(obj)
    if model in APPROVED_ONLY:
        return "approved" in values_of(state, APPROVED_ONLY[model])
    if model is Department:
        return kind == "dirty" and state.attrs.name.history.has_changes()
    if model in IGNORED:
        return kind != "dirty" or changed(state, IGNORED[model])
    return False


def shows(obj, state, kind: str) -> bool:
    """Does this change show on the plan's pages?"""
    ignored = _USER_UNSHOWN if isinstance(obj, User) else VERSIONS
    return isinstance(obj, SHOWN) and (kind != "dirty" or changed(state, ignored))
