"""The base of every form: text with control characters is refused with a message.

NUL cannot be stored by PostgreSQL; other C0/C1 controls and DEL corrupt exports and
messages; the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make
text read differently from what it is. Tab, line feed and carriage return are allowed.
A form posted as JSON must be an object of plain values (else 400)."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import ImmutableMultiDict

from app.params import BadParam, has_control


def control_message(label: str) -> str:
    return f"字段“{label}”包含不允许的控制字符（NUL 等）。"


def _plain(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if (
                formdata is not _Auto
                or not _is_submitted()
                or request.files
                or request.form
                or not request.is_json
            ):
                return super().wrap_formdata(form, formdata)
            data = request.get_json(silent=True)
            if not isinstance(data, dict) or not all(
                _plain(v) or isinstance(v, list) and all(_plain(x) for x in v) for v in data.values()
            ):
                raise BadParam("提交的 JSON 应为一个对象，其中每个值为文字、数字或它们的列表。")
            return ImmutableMultiDict(
                [
                    (k, "" if x is None else str(x))
                    for k, v in data.items()
                    for x in (v if isinstance(v, list) else [v])
                ]
            )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            raw = [x for x in (field.raw_data or []) if isinstance(x, str)]
            if any(has_control(x) for x in raw):
                field.errors = [*field.errors, control_message(str(field.label.text or field.name))]
                ok = False
        return ok
