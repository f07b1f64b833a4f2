"""Routes of the 自评材料 pages: one plan's pack on screen, its .zip, and the list of
plans whose packs the user may take (the province sees every area's).

The plan is reached through access.load_viewable_plan (403 without a plan-viewing
permission, 404 outside the user's region). The .zip is written to a temporary file
and streamed from it; every download is audited (who took which pack).
"""

from __future__ import annotations

import tempfile
from datetime import date

from flask import current_app, render_template, request, send_file
from flask_login import current_user, login_required
from sqlalchemy import select

from app import access, audit, clock
from app.dates import cn_date, cn_system_datetime
from app.errors import render_error
from app.extensions import db
from app.models import Plan
from app.packs import bp
from app.stars.present import number_text, star_text
from app.uploads import storage_dir
from workflows.selfassess import KINDS, PackError, build_pack, check_kind, default_as_of
from workflows.selfassess_zip import layout, write_zip

SPOOL_LIMIT = 0  # always a real temporary file: packs can be large


@bp.context_processor
def helpers():
    return {
        "cn_date": cn_date,
        "cn_system_datetime": cn_system_datetime,
        "num": number_text,
        "star_text": star_text,
    }


def _requested(plan):
    """(kind, as_of or None) from the query string; raises PackError on bad input."""
    kind = check_kind(request.args.get("kind"))
    raw = (request.args.get("as_of") or "").strip()
    if not raw:
        return kind, None
    try:
        return kind, date.fromisoformat(raw)
    except ValueError:
        raise PackError(f"数据截至日期“{raw[:20]}”无效，应为 YYYY-MM-DD 格式，例如 2021-10-31。") from None


def _pack(plan):
    kind, as_of = _requested(plan)
    return build_pack(plan.id, kind, as_of)


@bp.route("/plans/<code>/self-assessment")
@login_required
def page(code: str):
    plan = access.load_viewable_plan(current_user, code)
    try:
        pack = _pack(plan)
    except PackError as exc:
        db.session.rollback()
        return render_error(400, str(exc))
    today = clock.today()
    return render_template(
        "packs/page.html",
        plan=plan,
        pack=pack,
        places=layout(pack),
        kinds=KINDS,
        defaults={k: default_as_of(plan, k, today) for k in KINDS},
        custom_as_of=bool(request.args.get("as_of")),
    )


@bp.route("/plans/<code>/self-assessment.zip")
@login_required
def download(code: str):
    plan = access.load_viewable_plan(current_user, code)
    try:
        pack = _pack(plan)
    except PackError as exc:
        db.session.rollback()
        return render_error(400, str(exc))
    out = tempfile.TemporaryFile(dir=current_app.config.get("PACK_TMP_DIR"))
    try:
        who = current_user.display_name or current_user.username
        missing = write_zip(pack, out, storage_dir(), who, clock.utcnow())
        size = out.tell()
        out.seek(0)
    except Exception:
        out.close()
        raise
    audit.record(
        current_user,
        "pack.download",
        plan,
        f"下载{pack.kind_label}自评材料（数据截至 {cn_date(pack.as_of)}，{number_text(pack.total)} 分，"
        f"{pack.stars} 星）" + (f"，{len(missing)} 个文件缺失" if missing else ""),
        after={
            "kind": pack.kind,
            "as_of": pack.as_of.isoformat(),
            "total": pack.total,
            "stars": pack.stars,
            "bytes": size,
            "missing": [m["evidence_id"] for m in missing],
        },
    )
    db.session.commit()
    name = f"{plan.code}-{pack.kind_label}自评材料-{pack.as_of.isoformat()}.zip"
    response = send_file(out, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/packs")
@login_required
def index():
    if not access.can_view_plans(current_user):
        return render_error(403)
    plans = db.session.scalars(select(Plan).where(access.plan_filter(current_user)).order_by(Plan.code)).all()
    today = clock.today()
    rows = [
        {"plan": p, "defaults": {k: default_as_of(p, k, today) for k in KINDS} if p.standard_code else None}
        for p in plans
    ]
    return render_template("packs/index.html", rows=rows, kinds=KINDS)
