"""统筹部门 imports a plan workbook in the browser: upload, preview the changes, apply.

Upload and preview (POST /plans/<code>/import) write nothing: the workbook waits under
a random name outside the web root, and the preview is a rolled-back run of the loader
(app/planio/web_import.py). Apply (POST …/import/apply) carries the file's hash and the
plan's fingerprint from the preview; a different file or a plan changed meanwhile gets
409 and nothing is written.
"""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from app import access
from app.errors import render_error
from app.extensions import db
from app.forms_base import Form as FlaskForm
from app.permissions import ensure
from app.planio import web_import
from app.plans import bp
from workflows.forecast_recompute import request_recompute

STALE_PLAN = (
    "计划在您预览之后已被修改（或预览的文件已变），本次导入未执行，计划保持不变。请重新上传工作簿并查看预览。"
)
EXPIRED = "预览的工作簿已失效（已导入、已过期或不属于您），本次导入未执行。请重新上传。"


class UploadForm(FlaskForm):
    workbook = FileField("计划工作簿（.xlsx）")


class ApplyForm(FlaskForm):
    upload = HiddenField()
    filename = HiddenField()
    file_sha = HiddenField()
    state = HiddenField()


def _page(plan, **kw):
    kw.setdefault("form", UploadForm())
    return render_template("plans/import.html", plan=plan, **kw)


@bp.route("/plans/<code>/import", methods=["GET", "POST"])
@login_required
def import_plan(code: str):
    plan = access.load_plan(current_user, code)
    ensure(current_user, "edit_plan")
    form = UploadForm()
    if not form.is_submitted():
        return _page(plan, form=form)
    if not form.validate_on_submit():
        return render_error(400)
    try:
        filename, data = web_import.check_upload(form.workbook.data)
    except web_import.ImportRefused as exc:
        return _page(plan, form=form, errors=[str(exc)]), 400
    parsed, errors = web_import.parse(data, filename, plan)
    if errors:
        return _page(plan, form=form, errors=errors, filename=filename), 400
    state = web_import.fingerprint(plan)
    try:
        preview = web_import.preview(parsed, filename, plan)
    except web_import.ImportRefused as exc:
        return _page(plan, form=form, errors=[str(exc)], filename=filename), 400
    except Exception as exc:  # the database refused what the checker let through
        db.session.rollback()
        current_app.logger.warning("plan import preview of %s failed: %s", code, exc)
        problem = (
            f"工作簿的数据无法写入（{type(exc).__name__}），请检查必填项（如名称、期限）是否为空。未导入。"
        )
        return _page(plan, form=form, errors=[problem], filename=filename), 400
    token = web_import.store_pending(current_user.id, data)
    apply_form = ApplyForm(upload=token, filename=filename, file_sha=web_import.sha256(data), state=state)
    return _page(plan, form=form, preview=preview, apply_form=apply_form, filename=filename)


@bp.route("/plans/<code>/import/apply", methods=["POST"])
@login_required
def apply_import(code: str):
    plan = access.load_plan(current_user, code)
    ensure(current_user, "edit_plan")
    form = ApplyForm()
    if not form.validate_on_submit():
        return render_error(400)
    data = web_import.read_pending(current_user.id, form.upload.data)
    if data is None:
        return render_error(409, EXPIRED)
    if web_import.sha256(data) != form.file_sha.data:
        return render_error(409, STALE_PLAN)
    filename = (form.filename.data or "工作簿.xlsx")[:200]
    parsed, errors = web_import.parse(data, filename, plan)
    if errors:  # the file was checked at upload; its plan may have moved since
        return _page(plan, errors=errors, filename=filename), 409
    if web_import.fingerprint(plan) != form.state.data:
        web_import.discard_pending(current_user.id, form.upload.data)
        return render_error(409, STALE_PLAN)
    plan_id = plan.id
    try:
        result = web_import.apply(parsed, filename, plan, current_user, form.file_sha.data)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_PLAN)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("plan import of %s failed", code)
        return render_error(500, "导入失败，计划未作任何修改。请检查工作簿后重试；问题已记录。")
    web_import.discard_pending(current_user.id, form.upload.data)
    request_recompute(plan_id)
    counts = web_import.Preview(result).counts()
    flash("已导入计划工作簿：" + ("，".join(counts) if counts else "没有变化") + "。", "success")
    if result.orphaned:
        flash(f"{len(result.orphaned)} 项已不在工作簿中但已有工作记录，已保留。", "info")
    return redirect(url_for("plans.plan", code=code))
