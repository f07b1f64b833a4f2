"""All models, split by area; importing this registers every table."""

from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.bulletin import Bulletin
from app.models.community import Community, CommunityEvidence, CommunityItem, CommunityRule
from app.models.forecast import ForecastRun, PlanStatusCount
from app.models.indicator import Indicator, IndicatorValue
from app.models.notice import Notice, NoticeRound, Notification
from app.models.org import Department, LoginAttempt, Region, User
from app.models.plan import Dependency, Extension, Milestone, Plan, PlanNode
from app.models.reminder import (
    Holiday,
    JobState,
    NotificationSetting,
    OutboxMessage,
    Reminder,
    ReminderDelivery,
    ReminderPolicy,
)
from app.models.report import Evidence, ProgressReport

__all__ = [
    "ApiToken",
    "Holiday",
    "JobState",
    "NotificationSetting",
    "OutboxMessage",
    "ReminderDelivery",
    "ReminderPolicy",
    "AuditEvent",
    "Bulletin",
    "Community",
    "CommunityEvidence",
    "CommunityItem",
    "CommunityRule",
    "Department",
    "Dependency",
    "Evidence",
    "Extension",
    "ForecastRun",
    "PlanStatusCount",
    "Indicator",
    "LoginAttempt",
    "IndicatorValue",
    "Milestone",
    "Notice",
    "NoticeRound",
    "Notification",
    "Plan",
    "PlanNode",
    "ProgressReport",
    "Region",
    "Reminder",
    "User",
]
