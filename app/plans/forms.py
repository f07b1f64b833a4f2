from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.engines.limits import LAG_MAX_DAYS, LAG_MIN_DAYS
from app.forms_base import Form as FlaskForm


class NoticeForm(FlaskForm):
    department_id = SelectField("督办部门", coerce=int)
    text = TextAreaField("督办事项", validators=[DataRequired("请填写督办事项。"), Length(max=5000)])
    reply_due = DateField("答复期限", validators=[DataRequired("请填写答复期限（YYYY-MM-DD）。")])


class DependencyForm(FlaskForm):
    predecessor_id = SelectField("前置里程碑", coerce=int)
    lag_days = IntegerField(
        "间隔天数",
        default=0,
        validators=[
            InputRequired("请填写间隔天数。"),
            NumberRange(LAG_MIN_DAYS, LAG_MAX_DAYS, f"间隔天数应在 {LAG_MIN_DAYS} 到 {LAG_MAX_DAYS} 之间。"),
        ],
    )
    reason = StringField("依据", validators=[Length(max=256)])


class NoticeReviewForm(FlaskForm):
    """复核 a 督办 answer: accept (办结) or send back with a reason."""

    version = HiddenField()
    note = TextAreaField("复核意见 / 退回原因", validators=[Length(max=2000)])
