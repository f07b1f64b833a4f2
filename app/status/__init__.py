"""The 三色 status of a plan's milestones and 督办, read from the database (the rules
are app.engines.status); every page, reminder and export asks here."""

from app.status.plan_status import PlanStatus, Row, notice_colour, plan_status, thresholds_for

__all__ = ["PlanStatus", "Row", "notice_colour", "plan_status", "thresholds_for"]
