"""The plan office's community workbook: imported (communities and streets created or
updated, all or nothing) and downloaded as a template holding the region's communities."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.communities import bp, coverage, importer
from app.communities.forms import ImportForm
from app.communities.scope import office_region
from app.errors import render_error
from app.extensions import db
from app.models import Community
from workflows.forecast_recompute import request_recompute


@bp.route("/communities/import", methods=["GET", "POST"])
@login_required
def import_workbook():
    region = office_region()
    form = ImportForm()
    errors: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_error(400)
        upload = request.files.get("workbook")
        data = upload.read() if upload and upload.filename else b""
        if not data:
            errors = ["请选择要导入的 .xlsx 文件。"]
        else:
            try:
                rows = importer.read_rows(data)
                counts = importer.apply(rows, region.id, current_user)
                plans = coverage.record_coverage(region.id, current_user)
                db.session.commit()
            except importer.ImportError_ as exc:
                db.session.rollback()
                errors = exc.messages
            except IntegrityError:
                db.session.rollback()
                errors = ["导入时与他人的修改冲突，未导入任何数据，请重试。"]
            else:
                for plan_id in plans:
                    request_recompute(plan_id)
                flash(
                    f"已导入：新增社区 {counts['created']} 个，更新 {counts['updated']} 个，"
                    f"新增街道 / 镇 {counts['streets']} 个。",
                    "success",
                )
                return redirect(url_for("communities.index"))
    status = 400 if errors else 200
    return render_template(
        "communities/import.html",
        form=form,
        region=region,
        errors=errors,
        columns=importer.COLUMNS,
        sheet=importer.SHEET,
    ), status


@bp.route("/communities/import-template.xlsx")
@login_required
def import_template():
    """The import workbook with the region's communities as they are now."""
    region = office_region()
    rows = [
        (c.street.name, c.name, c.households)
        for c in db.session.scalars(
            select(Community)
            .where(Community.region_id == region.id)
            .options(selectinload(Community.street))
            .order_by(Community.street_id, Community.name)
        )
    ]
    return send_file(
        io.BytesIO(importer.template_xlsx(rows)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{region.name}社区名单.xlsx",
    )
