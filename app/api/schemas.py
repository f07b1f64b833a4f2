"""Marshmallow schemas of /api/v1: what the API answers and takes. Descriptions in Chinese
go into the OpenAPI document."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from flask_smorest.fields import Upload

F = ma.fields


def d(text: str) -> dict:
    return {"metadata": {"description": text}}


# The characters app.params refuses (PostgreSQL refuses NUL): as a pattern, so the document says so.
NO_CONTROL = ma.validate.Regexp(
    r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]*$",
    error="不能包含控制字符。",
)


class Text(F.String):
    """A string parameter or field without control characters."""

    def __init__(self, *args, validate=None, **kwargs):
        more = validate if isinstance(validate, list) else [validate] if validate is not None else []
        super().__init__(*args, validate=[NO_CONTROL, *more], **kwargs)


def not_blank(text: str) -> None:
    if not text.strip():
        raise ma.ValidationError("不能为空白。")


class UtcDateTime(F.DateTime):
    """Times are stored as naive UTC: sent with their offset (RFC 3339, as the document says)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class DepartmentRef(ma.Schema):
    id = F.Integer(required=True)
    name = F.String(required=True, **d("部门名称"))


class PlanSchema(ma.Schema):
    id = F.Integer(required=True)
    code = F.String(required=True, **d("计划代码，如 weihai-1313"))
    title = F.String(required=True, **d("计划名称"))
    region = F.Function(lambda p: p.region.name, required=True, **d("所属地区"))
    standard_code = F.String(allow_none=True, **d("评价标准代码"))
    period_start = F.Date(required=True, **d("计划开始日期"))
    period_end = F.Date(required=True, **d("计划结束日期"))
    target_stars = F.Integer(allow_none=True, **d("目标星级"))
    target_date = F.Date(allow_none=True, **d("考核日期"))


class NodeSchema(ma.Schema):
    id = F.Integer(required=True)
    parent_id = F.Integer(allow_none=True, **d("上级节点"))
    key = F.String(required=True)
    kind = F.String(required=True, **d("节点类型"))
    number = F.String(allow_none=True, **d("编号"))
    title = F.String(required=True, **d("名称"))
    position = F.Integer(required=True, **d("同级顺序"))
    departments = F.List(F.Nested(DepartmentRef), required=True, **d("负责部门"))


class ColourSchema(ma.Schema):
    colour = F.String(required=True, **d("三色：red 红 / yellow 黄 / blue 蓝 / done 已完成"))
    label = F.String(required=True, **d("三色的中文说明"))
    reasons = F.List(F.String(), required=True, **d("亮色原因"))
    days_late = F.Integer(required=True, **d("逾期天数"))
    scheduled_percent = F.Integer(allow_none=True, **d("序时进度（%）"))


class MilestoneSchema(ma.Schema):
    id = F.Integer(required=True)
    plan_code = F.Function(lambda m: m.plan.code, required=True, **d("所属计划代码"))
    node_id = F.Integer(required=True, **d("所属节点"))
    key = F.String(required=True)
    title = F.String(required=True, **d("里程碑名称"))
    text = F.String(required=True, **d("任务内容"))
    due_date = F.Date(required=True, **d("当前期限（含延期）"))
    baseline_due_date = F.Date(required=True, **d("原定期限"))
    lead_department = F.Nested(DepartmentRef, required=True, **d("牵头部门"))
    co_departments = F.List(F.Nested(DepartmentRef), required=True, **d("配合部门"))
    status = F.String(required=True, **d("状态：not_started / in_progress / blocked / done"))
    status_label = F.String(required=True, **d("状态的中文名"))
    percent = F.Integer(required=True, **d("完成百分比"))
    actual_finish = F.Date(allow_none=True, **d("实际完成日期"))
    version = F.Integer(required=True, **d("版本号（ETag 即由此得出）"))
    tri_colour = F.Nested(ColourSchema, allow_none=True, **d("三色状态（与页面同一规则）"))


class EvidenceSchema(ma.Schema):
    id = F.Integer(required=True)
    original_name = F.String(required=True, **d("文件名"))
    content_type = F.String(required=True)
    size = F.Integer(required=True, **d("字节数"))
    sha256 = F.String(required=True)


class ReportSchema(ma.Schema):
    id = F.Integer(required=True)
    milestone_id = F.Integer(required=True)
    department = F.Nested(DepartmentRef, required=True, **d("汇报部门"))
    kind = F.String(required=True, **d("lead 牵头汇报 / part 配合部门进展"))
    text = F.String(required=True, **d("进展说明"))
    percent = F.Integer(required=True, **d("完成百分比"))
    claimed_status = F.String(required=True, **d("声明的状态"))
    state = F.String(required=True, **d("审核状态：draft / submitted / approved / returned"))
    state_label = F.String(required=True, **d("审核状态的中文名"))
    return_reason = F.String(allow_none=True, **d("退回原因"))
    submitted_at = UtcDateTime(allow_none=True, **d("提交时间（UTC）"))
    reviewed_at = UtcDateTime(allow_none=True, **d("审核时间（UTC）"))
    version = F.Integer(required=True)
    evidence = F.List(F.Nested(EvidenceSchema), required=True, **d("佐证材料"))


class ReportIn(Strict):
    """multipart/form-data: the fields of the page's report form, and files."""

    text = Text(required=True, validate=[ma.validate.Length(1, 10000), not_blank], **d("进展说明（必填）"))
    percent = F.Integer(required=True, validate=ma.validate.Range(0, 100), **d("完成百分比 0–100"))
    claimed_status = Text(
        required=True,
        validate=ma.validate.OneOf(["in_progress", "blocked", "done"]),
        **d("当前状态：in_progress 进行中 / blocked 受阻 / done 已完成（须 100%）"),
    )
    action = Text(
        load_default="submit",
        validate=ma.validate.OneOf(["submit", "draft"]),
        **d("submit 提交审核（默认）/ draft 保存草稿"),
    )
    files = F.List(Upload(), **d("佐证材料（可多个，检查与页面相同）"))


class IndicatorSchema(ma.Schema):
    id = F.Integer(required=True)
    plan_code = F.Function(lambda i: i.plan.code, required=True, **d("所属计划代码"))
    key = F.String(required=True)
    number = F.String(allow_none=True, **d("计划中的编号"))
    name = F.String(required=True, **d("指标名称"))
    unit = F.String(allow_none=True, **d("单位"))
    star = F.Boolean(required=True, **d("是否★指标"))
    four_star_target = F.String(allow_none=True, **d("四星目标"))
    four_star_due = F.Date(allow_none=True, **d("四星目标期限"))
    five_star_target = F.String(allow_none=True, **d("五星目标"))
    five_star_due = F.Date(allow_none=True, **d("五星目标期限"))
    standard_indicator = F.String(allow_none=True, **d("对应评价标准的指标编号"))
    departments = F.List(F.Nested(DepartmentRef), required=True, **d("责任部门"))


class ValueSchema(ma.Schema):
    id = F.Integer(required=True)
    indicator_id = F.Integer(required=True)
    as_of = F.Date(required=True, **d("数据截至日期"))
    value = F.Function(
        lambda v: v.value_json if v.value_json is not None else v.value_number,
        required=True,
        allow_none=True,
        **d("数值：数字，或分项/档次对象（见 spec/scoring.md）"),
    )
    source = F.String(allow_none=True, **d("数据来源"))
    note = F.String(allow_none=True, **d("说明"))
    state = F.String(required=True, **d("审核状态：submitted 待审核 / approved 已确认 / returned 已退回"))
    review_note = F.String(allow_none=True, **d("退回原因"))
    created_at = UtcDateTime(required=True, **d("录入时间（UTC）"))
    reviewed_at = UtcDateTime(allow_none=True, **d("审核时间（UTC）"))
    version = F.Integer(required=True)


class ValueIn(Strict):
    as_of = F.Date(required=True, **d("数据截至日期（YYYY-MM-DD，不晚于今天）"))
    value = F.Raw(
        allow_none=True,
        metadata={
            "description": '数值：一个数字，或分项对象（如 {"coverage": 95, "intact": 98}）；与 level 二选一',
            "oneOf": [{"type": "number"}, {"type": "object", "additionalProperties": {"type": "number"}}],
        },
    )
    level = F.Integer(allow_none=True, validate=ma.validate.Range(0, 5), **d("按档次评定时的档次 0–5"))
    source = Text(load_default="", validate=ma.validate.Length(max=256), **d("数据来源"))
    note = Text(load_default="", validate=ma.validate.Length(max=5000), **d("说明"))


class ScoreRow(ma.Schema):
    number = F.String(required=True, **d("标准指标编号"))
    category = F.String(allow_none=True, **d("类别"))
    name = F.String(required=True, **d("指标名称"))
    star = F.Boolean(required=True, **d("是否★指标"))
    value = F.String(allow_none=True, **d("所用数值（可读形式）"))
    source = F.String(allow_none=True, **d("数值来源"))
    level = F.Integer(required=True, **d("达到的档次"))
    points = F.Float(required=True, **d("得分"))
    max_points = F.Float(required=True, **d("满分"))
    expected = F.Float(allow_none=True, **d("考核日的期望得分"))
    untracked = F.Boolean(required=True, **d("计划未跟踪的标准指标"))


class ScoresSchema(ma.Schema):
    plan_code = F.String(required=True)
    standard_code = F.String(allow_none=True, **d("评价标准代码"))
    available = F.Boolean(required=True, **d("是否已有测算结果"))
    run_id = F.Integer(allow_none=True, **d("所用测算的编号"))
    as_of = F.Date(allow_none=True, **d("测算所用数据截至日期"))
    computed_at = UtcDateTime(allow_none=True, **d("测算时间（UTC，系统时间）"))
    total = F.Float(allow_none=True, **d("当前总分"))
    stars = F.Integer(allow_none=True, **d("当前星级"))
    indicators = F.List(F.Nested(ScoreRow), required=True, **d("每个标准指标的得分"))


class ForecastSchema(ma.Schema):
    id = F.Integer(required=True)
    as_of = F.Date(required=True, **d("所用数据截至日期"))
    target_date = F.Date(required=True, **d("考核日期"))
    computed_at = UtcDateTime(required=True, **d("测算时间（UTC）"))
    samples = F.Integer(required=True, **d("抽样次数"))
    target_stars = F.Integer(allow_none=True, **d("目标星级"))
    p_target = F.Float(allow_none=True, **d("达到目标星级的概率"))
    p50 = F.Float(allow_none=True, **d("考核日得分中位数"))
    probabilities = F.List(F.Float(), allow_none=True, **d("0–5 星各自的概率"))


class ForecastDetailSchema(ForecastSchema):
    result = F.Dict(required=True, **d("完整测算结果（评分、差距、进度图、预测）"))


class NoticeRoundSchema(ma.Schema):
    number = F.Integer(required=True, **d("第几次反馈"))
    reply_text = F.String(required=True, **d("反馈内容"))
    replied_at = UtcDateTime(required=True)
    outcome = F.String(allow_none=True, **d("accepted 复核通过 / returned 退回"))
    review_note = F.String(allow_none=True, **d("复核意见"))


class NoticeSchema(ma.Schema):
    id = F.Integer(required=True)
    milestone_id = F.Integer(required=True)
    department = F.Nested(DepartmentRef, required=True, **d("被督办部门"))
    text = F.String(required=True, **d("督办内容"))
    reply_due = F.Date(required=True, **d("答复期限"))
    issued_at = UtcDateTime(required=True, **d("交办时间（UTC）"))
    state = F.String(required=True, **d("issued / acknowledged / answered / returned / closed"))
    state_label = F.String(required=True, **d("状态的中文名"))
    reply_text = F.String(allow_none=True, **d("最近一次反馈"))
    replied_at = UtcDateTime(allow_none=True)
    review_note = F.String(allow_none=True, **d("最近一次退回原因"))
    version = F.Integer(required=True)
    rounds = F.List(F.Nested(NoticeRoundSchema), required=True, **d("历次反馈"))


class NoticeAnswerIn(Strict):
    reply_text = Text(
        required=True, validate=[ma.validate.Length(1, 5000), not_blank], **d("办理情况（必填）")
    )
    files = F.List(Upload(), **d("佐证材料（可多个）"))


class ReminderSchema(ma.Schema):
    id = F.Integer(required=True)
    milestone_id = F.Integer(required=True)
    recipient = F.Function(lambda r: r.recipient.username, required=True, **d("收件人账号"))
    kind = F.String(required=True, **d("提醒类型"))
    slot = F.Date(required=True, **d("提醒档期"))
    send_on = F.Date(required=True, **d("发送日期"))
    due_date = F.Date(required=True, **d("计算时的期限"))
    days = F.Integer(required=True, **d("距期限天数（负数为逾期）"))
    status = F.String(required=True, **d("pending / sent / cancelled 等"))
    cancelled_reason = F.String(allow_none=True)
    created_at = UtcDateTime(required=True, **d("生成时间（UTC）"))
