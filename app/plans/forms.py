from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length


class NoticeForm(FlaskForm):
    department_id = SelectField("督办部门", coerce=int)
    text = TextAreaField("督办事项", validators=[DataRequired("请填写督办事项。"), Length(max=5000)])
    reply_due = DateField("答复期限", validators=[DataRequired("请填写答复期限（YYYY-MM-DD）。")])
