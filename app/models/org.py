"""Regions, departments and user accounts."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import TimestampMixin

REGION_KINDS = {"province": "省", "city": "市", "county": "县（市、区）"}
DEPARTMENT_KINDS = {
    "government": "政府部门",
    "party": "党委部门",
    "judicial": "司法机关",
    "public_institution": "事业单位",
    "enterprise": "企业",
    "street": "街道 / 镇",
    "other": "其他",
}
ROLES = {
    "plan_office": "统筹部门",
    "department": "责任部门",
    "leading_group": "领导小组",
    "admin": "管理员",
    "province": "省级（只读）",
    "street": "街道 / 镇",
}


class Region(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id])
    departments: Mapped[list[Department]] = relationship(back_populates="region", order_by="Department.name")

    @property
    def kind_label(self) -> str:
        return REGION_KINDS.get(self.kind, self.kind)


class Department(TimestampMixin, db.Model):
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), default="government")
    # The department's group chat robot (DingTalk / WeCom markdown messages).
    webhook_url: Mapped[str | None] = mapped_column(String(512))
    webhook_kind: Mapped[str | None] = mapped_column(String(16))  # dingtalk | wecom

    region: Mapped[Region] = relationship(back_populates="departments")

    @property
    def kind_label(self) -> str:
        return DEPARTMENT_KINDS.get(self.kind, self.kind)


class User(UserMixin, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    # Region scopes everything the user may see; admins and province users have none.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # Carried in the session (get_id); bumped by log-out, a password change and
    # deactivation, which ends every session opened before (app/sessions.py).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    region: Mapped[Region | None] = relationship()
    department: Mapped[Department | None] = relationship()

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Every session opened before this (any browser, any copied cookie) stops working."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class LoginAttempt(db.Model):
    """A refused log-in, kept only when Redis is down (app/auth/throttle.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    attempted_at: Mapped[datetime]
