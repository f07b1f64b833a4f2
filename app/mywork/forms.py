from wtforms import HiddenField, IntegerField, MultipleFileField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.forms_base import Form as FlaskForm

CLAIMABLE_STATUSES = [("in_progress", "进行中"), ("blocked", "受阻"), ("done", "已完成")]


class ReportForm(FlaskForm):
    percent = IntegerField(
        "完成百分比（%）",
        validators=[
            InputRequired("请填写完成百分比。"),
            NumberRange(0, 100, "完成百分比应在 0 到 100 之间。"),
        ],
    )
    claimed_status = SelectField("当前状态", choices=CLAIMABLE_STATUSES)
    text = TextAreaField("进展说明", validators=[DataRequired("请填写进展说明。"), Length(max=10000)])
    files = MultipleFileField("佐证材料（可多选）")
    version = HiddenField()
    action = HiddenField(default="submit")


class NoticeReplyForm(FlaskForm):
    reply_text = TextAreaField(
        "办理情况（反馈内容）", validators=[DataRequired("请填写反馈内容（办理情况）。"), Length(max=5000)]
    )
    files = MultipleFileField("佐证材料（可多选）")
    version = HiddenField()


class EvidenceRemoveForm(FlaskForm):
    """One 删除 button under an evidence file; carries the report's version."""

    version = HiddenField()


class NoticeStepForm(FlaskForm):
    """签收: only the version the button was drawn from (a stale double click answers 409)."""

    version = HiddenField()
