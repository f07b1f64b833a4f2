from wtforms import DateField, FieldList, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms_base import Form as FlaskForm
from app.params import form_id


class ApproveForm(FlaskForm):
    version = HiddenField()
    milestone_version = HiddenField()


class ReturnForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(
        "退回原因", validators=[DataRequired("退回时必须填写退回原因。"), Length(max=2000)]
    )


class ExtensionForm(FlaskForm):
    version = HiddenField()
    new_due = DateField("新的完成期限", validators=[DataRequired("请填写新的完成期限（YYYY-MM-DD）。")])
    reason = TextAreaField("延期理由", validators=[DataRequired("请填写延期理由。"), Length(max=2000)])


def _dept_id(value):
    """A select's value as a department id; the empty choice is None."""
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):  # a choice's own value
        return value
    dept_id = form_id(value)
    if dept_id is None:
        raise ValueError(value)
    return dept_id


class DepartmentField(SelectField):
    """A department select whose value must be a department id (checked against the region
    by the view); a forged value gets a Chinese message, not WTForms' English one."""

    def __init__(self, label, **kwargs):
        super().__init__(label, coerce=_dept_id, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(f"“{' '.join(valuelist)}”不是有效的部门，请从列表中选择。") from exc


class CnDateField(DateField):
    """A date field whose parse error is Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(f"“{' '.join(valuelist)}” 不是有效日期，应为 YYYY-MM-DD。") from exc


# How many empty 配合部门 rows the edit page offers beyond the current ones.
SPARE_CO_ROWS = 3


class MilestoneEditForm(FlaskForm):
    version = HiddenField()
    title = StringField("里程碑名称", validators=[DataRequired("请填写名称。"), Length(max=256)])
    text = TextAreaField("工作要求", validators=[Length(max=10000)])
    lead_department_id = DepartmentField("牵头部门")
    # One select per co-department, in the order the plan names them; empty rows are skipped.
    co_departments = FieldList(DepartmentField("配合部门"), label="配合部门（按顺序）")
    # Absent from a POST (an older page or client): the current due date stays.
    due_date = CnDateField("完成期限", validators=[Optional()], format="%Y-%m-%d")
    reason = TextAreaField("调整期限的理由", validators=[Optional(), Length(max=2000)])
