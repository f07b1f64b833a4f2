"""Forms: a user's notification settings, a plan's reminder policy, node leaders."""

import re

from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from app.forms_base import Form as FlaskForm

MAX_BEFORE_DAYS = 365
MAX_BEFORE_COUNT = 10


class NotificationSettingForm(FlaskForm):
    token = HiddenField()
    email = BooleanField("邮件提醒")
    webhook = BooleanField("钉钉/企业微信群消息（本部门群机器人）")
    digest = RadioField(
        "发送方式",
        choices=[("digest", "每日汇总：每天一条，列出当天全部提醒"), ("instant", "即时：每条提醒单独发送")],
        validators=[DataRequired("请选择发送方式。")],
    )
    digest_hour = SelectField(
        "汇总时间（北京时间）",
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        validators=[
            InputRequired("请选择汇总时间。"),
            NumberRange(min=0, max=23, message="汇总时间应为 0–23 点。"),
        ],
    )


def parse_before_days(raw: str) -> list[int]:
    """ "30, 7，1 0" → [30, 7, 1, 0]: non-negative whole days, duplicates dropped, largest first."""
    parts = [p for p in re.split(r"[\s,，、;；]+", raw or "") if p]
    if not parts:
        raise ValueError("请至少填写一个天数（0 表示到期当天）。")
    days = set()
    for part in parts:
        if not (part.isascii() and part.isdigit()):  # "²" is a digit to isdigit, not to int
            raise ValueError(f"“{part}”不是非负整数；请用逗号分隔的天数，如 30,7,1,0。")
        value = int(part)
        if value > MAX_BEFORE_DAYS:
            raise ValueError(f"提前天数最多 {MAX_BEFORE_DAYS} 天（“{part}”过大）。")
        days.add(value)
    if len(days) > MAX_BEFORE_COUNT:
        raise ValueError(f"最多设置 {MAX_BEFORE_COUNT} 个提前提醒。")
    return sorted(days, reverse=True)


class ReminderPolicyForm(FlaskForm):
    version = HiddenField()
    before_days = StringField(
        "到期前提醒（提前天数，逗号分隔；0 表示到期当天）",
        validators=[DataRequired("请填写提前天数。"), Length(max=200)],
    )
    overdue_every_days = IntegerField(
        "逾期后每隔几天再提醒",
        validators=[
            InputRequired("请填写逾期提醒间隔。"),
            NumberRange(min=1, max=90, message="逾期提醒间隔应为 1–90 天。"),
        ],
    )
    escalate_overdue_days = IntegerField(
        "逾期超过几天升级（发给统筹部门和负责领导）",
        validators=[
            InputRequired("请填写逾期升级天数。"),
            NumberRange(min=1, max=365, message="逾期升级天数应为 1–365 天。"),
        ],
    )
    escalate_returned_days = IntegerField(
        "汇报被退回后几天未重新提交即升级",
        validators=[
            InputRequired("请填写退回升级天数。"),
            NumberRange(min=1, max=90, message="退回升级天数应为 1–90 天。"),
        ],
    )
    include_co_departments = BooleanField("同时提醒配合部门")
    status_soon_days = IntegerField(
        "三色：到期前几天内未完成即标黄",
        validators=[
            InputRequired("请填写标黄的临期天数。"),
            NumberRange(min=0, max=60, message="标黄的临期天数应为 0–60 天。"),
        ],
    )
    status_behind_points = IntegerField(
        "三色：进度落后序时进度超过几个百分点即标黄",
        validators=[
            InputRequired("请填写落后序时进度的百分点。"),
            NumberRange(min=1, max=100, message="落后序时进度的百分点应为 1–100。"),
        ],
    )
    escalate_notices = BooleanField("督办单超过答复期限未答复时升级")

    def validate_before_days(self, field):
        try:
            self.parsed_before_days = parse_before_days(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class LeadersForm(FlaskForm):
    """The selects (leader_<node id>) are read from the request; the token is the assignment shown."""

    token = HiddenField()
