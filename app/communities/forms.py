"""Forms of the 智慧社区 pages (CSRF on all; the assessment's per-item inputs are read
from the posted form by routes._read_item)."""

from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from app.forms_base import Form


class CommunityForm(Form):
    version = HiddenField()
    name = StringField(
        "社区名称",
        validators=[DataRequired("请填写社区名称。"), Length(max=128, message="社区名称不超过 128 字。")],
    )
    street_id = SelectField("所属街道 / 镇", coerce=int, validate_choice=True)
    households = IntegerField(
        "总户数",
        validators=[
            DataRequired("请填写总户数（正整数）。"),
            NumberRange(min=1, max=1_000_000, message="总户数应在 1 到 1000000 之间。"),
        ],
    )


class AssessForm(Form):
    """The assessment page's own fields; the items' inputs are named item-<n>-…"""


class ReviewForm(Form):
    version = HiddenField()


class ReturnForm(Form):
    version = HiddenField()
    reason = TextAreaField(
        "退回原因", validators=[DataRequired("退回时必须填写退回原因。"), Length(max=2000)]
    )


class RuleForm(Form):
    version = HiddenField()
    required_items = IntegerField(
        "至少审核达标的项数",
        validators=[
            DataRequired("请填写 1 到 25 之间的项数。"),
            NumberRange(min=1, max=25, message="项数应在 1 到 25 之间。"),
        ],
    )
    note = StringField("说明", validators=[Length(max=500, message="说明不超过 500 字。")])


class ImportForm(Form):
    """The workbook comes as request.files['workbook']."""
