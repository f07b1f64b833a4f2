from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


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


class MilestoneEditForm(FlaskForm):
    version = HiddenField()
    title = StringField("里程碑名称", validators=[DataRequired("请填写名称。"), Length(max=256)])
    text = TextAreaField("工作要求", validators=[Length(max=10000)])
