from email_validator import EmailNotValidError, validate_email
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp, ValidationError

from app.forms_base import Form as FlaskForm
from app.models.org import DEPARTMENT_KINDS, REGION_KINDS, ROLES
from workflows.channels import WEBHOOK_KINDS


class RegionForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=64)])
    kind = SelectField("级别", choices=list(REGION_KINDS.items()))
    parent_id = SelectField("上级区域", coerce=int)


class DepartmentForm(FlaskForm):
    region_id = SelectField("所属区域", coerce=int)
    name = StringField("部门名称", validators=[DataRequired("请填写部门名称。"), Length(max=128)])
    kind = SelectField("类型", choices=list(DEPARTMENT_KINDS.items()))


def email_address(form, field) -> None:
    """A well-formed address. No DNS look-up (the server may have no outside network), and
    intranet mail domains under ``.local`` (the demo's, many government networks') pass:
    email-validator refuses them as special-use names, so their syntax is checked under an
    ordinary suffix instead."""
    checked = field.data
    if checked.lower().rstrip(".").endswith(".local"):
        checked = checked.rstrip(".") + "domain"
    try:
        validate_email(checked, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"邮箱格式不正确：“{field.data}”不是有效的电子邮箱地址。") from exc


class UserForm(FlaskForm):
    username = StringField(
        "用户名",
        validators=[
            DataRequired("请填写用户名。"),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能包含字母、数字、点、下划线和连字符。"),
        ],
    )
    display_name = StringField("姓名", validators=[DataRequired("请填写姓名。"), Length(max=64)])
    email = StringField(
        "电子邮箱",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Optional(), Length(max=128, message="电子邮箱不能超过 128 个字符。"), email_address],
    )
    role = SelectField("角色", choices=list(ROLES.items()))
    region_id = SelectField("所属区域", coerce=int)
    department_id = SelectField("所属部门", coerce=int)
    password = PasswordField(
        "密码（新建必填；编辑时留空表示不修改）",
        validators=[Optional(), Length(min=8, message="密码至少 8 位。")],
    )
    active = BooleanField("启用", default=True)


class JobActionForm(FlaskForm):
    """Requeue or delete one failed rq job (ids are in the body, not the URL)."""

    job_id = HiddenField(validators=[DataRequired(), Length(max=128)])
    queue = HiddenField(validators=[DataRequired(), Length(max=32)])


class DeliveryRetryForm(FlaskForm):
    delivery_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d+$")])


class HolidayForm(FlaskForm):
    day = DateField("日期", validators=[DataRequired("请填写日期（YYYY-MM-DD）。")])
    name = StringField("名称", validators=[DataRequired("请填写名称，如“国庆节”。"), Length(max=64)])
    kind = RadioField(
        "类型",
        choices=[("holiday", "放假"), ("workday", "调休上班")],
        default="holiday",
        validators=[DataRequired()],
    )


class HolidayDeleteForm(FlaskForm):
    holiday_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d+$")])


class HolidayBulkForm(FlaskForm):
    text = TextAreaField(
        "批量粘贴（每行一条：日期 名称）",
        validators=[DataRequired("请粘贴至少一行。"), Length(max=20000)],
    )


class DepartmentEditForm(FlaskForm):
    token = HiddenField()  # the row's updated_at when the form was shown (optimistic lock)
    name = StringField("部门名称", validators=[DataRequired("请填写部门名称。"), Length(max=128)])
    kind = SelectField("类型", choices=list(DEPARTMENT_KINDS.items()))
    webhook_url = StringField(
        "群机器人 Webhook 地址",
        validators=[
            Optional(),
            Length(max=512),
            URL(require_tld=False, message="请填写以 https:// 或 http:// 开头的完整地址。"),
            Regexp(r"^https?://", message="只支持 https:// 或 http:// 地址。"),
        ],
    )
    webhook_kind = SelectField("机器人类型", choices=[("", "（未设置）")] + list(WEBHOOK_KINDS.items()))


class WebhookTestForm(FlaskForm):
    """Only the CSRF token: the test goes to the department's saved robot."""
