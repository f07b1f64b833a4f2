"""The one object loader: every object is reached through a query scoped by
the user's region and department, and anything outside answers 404."""

from flask import abort
from sqlalchemy import false, or_, select, true

from app.extensions import db
from app.models import (
    Community,
    CommunityEvidence,
    CommunityItem,
    Evidence,
    Indicator,
    IndicatorValue,
    Milestone,
    Notice,
    Plan,
    ProgressReport,
)
from app.models.indicator import indicator_department
from app.models.plan import milestone_co_department
from app.permissions import has_permission


def plan_filter(user):
    if has_permission(user, "view_all"):
        return true()
    if user.region_id is None:
        return false()
    return Plan.region_id == user.region_id


def milestone_filter(user):
    """SQL condition selecting the milestones `user` may see."""
    if has_permission(user, "view_all"):
        return true()
    if user.region_id is None:
        return false()
    in_region = Milestone.plan_id.in_(select(Plan.id).where(Plan.region_id == user.region_id))
    if has_permission(user, "view_region"):
        return in_region
    if user.department_id is None:
        return false()
    as_co = select(milestone_co_department.c.milestone_id).where(
        milestone_co_department.c.department_id == user.department_id
    )
    return in_region & or_(Milestone.lead_department_id == user.department_id, Milestone.id.in_(as_co))


def indicator_filter(user):
    """SQL condition selecting the indicators `user` may see: a department only those it
    is responsible for; plan office and leading group their region; province and admin all."""
    if has_permission(user, "view_all"):
        return true()
    if user.region_id is None:
        return false()
    in_region = Indicator.plan_id.in_(select(Plan.id).where(Plan.region_id == user.region_id))
    if has_permission(user, "view_region"):
        return in_region
    if user.department_id is None:
        return false()
    responsible = select(indicator_department.c.indicator_id).where(
        indicator_department.c.department_id == user.department_id
    )
    return in_region & Indicator.id.in_(responsible)


def visible_milestones(user):
    return select(Milestone).where(milestone_filter(user))


def _one_or_404(stmt):
    obj = db.session.scalars(stmt).first()
    if obj is None:
        abort(404)
    return obj


def can_view_plans(user) -> bool:
    return has_permission(user, "view_region") or has_permission(user, "view_all")


def load_viewable_plan(user, code: str) -> Plan:
    """The plan behind a plan-wide page (tree, graph, 星级测算): 403 without a plan-viewing
    permission, 404 outside the user's scope."""
    if not can_view_plans(user):
        abort(403)
    return load_plan(user, code)


def load_plan(user, code: str) -> Plan:
    return _one_or_404(select(Plan).where(Plan.code == code, plan_filter(user)))


def load_milestone(user, milestone_id: int, *options) -> Milestone:
    """The milestone if the user may see it (404 otherwise); options: loader options."""
    return _one_or_404(visible_milestones(user).where(Milestone.id == milestone_id).options(*options))


def load_report(user, report_id: int) -> ProgressReport:
    stmt = (
        select(ProgressReport)
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(ProgressReport.id == report_id, milestone_filter(user))
    )
    report = _one_or_404(stmt)
    # Drafts are private to their department.
    if report.state == "draft" and report.department_id != user.department_id:
        abort(404)
    return report


def load_evidence(user, evidence_id: int) -> Evidence:
    stmt = (
        select(Evidence)
        .join(Milestone, Evidence.milestone_id == Milestone.id)
        .where(Evidence.id == evidence_id, milestone_filter(user))
    )
    return _one_or_404(stmt)


def load_notice(user, notice_id: int) -> Notice:
    stmt = (
        select(Notice)
        .join(Milestone, Notice.milestone_id == Milestone.id)
        .where(Notice.id == notice_id, milestone_filter(user))
    )
    return _one_or_404(stmt)


def load_indicator(user, indicator_id: int) -> Indicator:
    return _one_or_404(select(Indicator).where(Indicator.id == indicator_id, indicator_filter(user)))


def load_indicator_value(user, value_id: int) -> IndicatorValue:
    stmt = (
        select(IndicatorValue)
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(IndicatorValue.id == value_id, indicator_filter(user))
    )
    return _one_or_404(stmt)


def report_kind_for(user, milestone: Milestone) -> str | None:
    """'lead' or 'part' when the user's department may report on the milestone."""
    if not has_permission(user, "report") or user.department_id is None:
        return None
    if milestone.lead_department_id == user.department_id:
        return "lead"
    if user.department_id in {d.id for d in milestone.co_departments}:
        return "part"
    return None


def community_filter(user):
    """SQL condition selecting the communities `user` may see: a 街道 / 镇 office its own,
    plan office and leading group their region's, province and admin all."""
    if has_permission(user, "view_all"):
        return true()
    if user.region_id is None:
        return false()
    in_region = Community.region_id == user.region_id
    if has_permission(user, "view_region"):
        return in_region
    if has_permission(user, "assess_community") and user.department_id is not None:
        return in_region & (Community.street_id == user.department_id)
    return false()


def can_view_communities(user) -> bool:
    return any(has_permission(user, p) for p in ("view_region", "view_all", "assess_community"))


def load_community(user, community_id: int) -> Community:
    return _one_or_404(select(Community).where(Community.id == community_id, community_filter(user)))


def load_community_item(user, item_id: int) -> CommunityItem:
    stmt = (
        select(CommunityItem)
        .join(Community, CommunityItem.community_id == Community.id)
        .where(CommunityItem.id == item_id, community_filter(user))
    )
    return _one_or_404(stmt)


def load_community_evidence(user, evidence_id: int) -> CommunityEvidence:
    stmt = (
        select(CommunityEvidence)
        .join(CommunityItem, CommunityEvidence.item_id == CommunityItem.id)
        .join(Community, CommunityItem.community_id == Community.id)
        .where(CommunityEvidence.id == evidence_id, community_filter(user))
    )
    return _one_or_404(stmt)
