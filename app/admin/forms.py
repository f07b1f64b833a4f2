from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.models.org import DEPARTMENT_KINDS, REGION_KINDS, ROLES


class RegionForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=64)])
    kind = SelectField("级别", choices=list(REGION_KINDS.items()))
    parent_id = SelectField("上级区域", coerce=int)


class DepartmentForm(FlaskForm):
    region_id = SelectField("所属区域", coerce=int)
    name = StringField("部门名称", validators=[DataRequired("请填写部门名称。"), Length(max=128)])
    kind = SelectField("类型", choices=list(DEPARTMENT_KINDS.items()))


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
    email = StringField("电子邮箱", validators=[Optional(), Email("邮箱格式不正确。"), Length(max=128)])
    role = SelectField("角色", choices=list(ROLES.items()))
    region_id = SelectField("所属区域", coerce=int)
    department_id = SelectField("所属部门", coerce=int)
    password = PasswordField(
        "密码（新建必填；编辑时留空表示不修改）",
        validators=[Optional(), Length(min=8, message="密码至少 8 位。")],
    )
    active = BooleanField("启用", default=True)
