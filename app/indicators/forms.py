"""Forms of the indicator pages. The value's own inputs depend on the indicator's
input kind and are read by app.indicators.values; these carry the rest."""

from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms_base import Form as FlaskForm


class ValueForm(FlaskForm):
    as_of = DateField("数据截至日期", validators=[DataRequired("请填写数据截至日期（YYYY-MM-DD）。")])
    source = StringField("数据来源", validators=[Length(max=256, message="数据来源不超过 256 字。")])
    note = TextAreaField("说明", validators=[Length(max=5000, message="说明不超过 5000 字。")])


class DirectValueForm(FlaskForm):
    as_of = DateField("数据截至日期", validators=[DataRequired("请填写数据截至日期（YYYY-MM-DD）。")])
    note = StringField("说明", validators=[Length(max=5000, message="说明不超过 5000 字。")])


class ApproveValueForm(FlaskForm):
    version = HiddenField()


class ReturnValueForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(
        "退回原因", validators=[DataRequired("退回时必须填写退回原因。"), Length(max=2000)]
    )
