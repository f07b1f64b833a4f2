"""Routes of the 智慧社区 pages: the region's community matrix with per-street progress and
its .xlsx export, one community's assessment (the street fills it in, the plan office
reviews each item), communities added, edited and imported by the plan office, and the
region's rule for counting a 智慧社区."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit, uploads
from app.communities import bp, coverage, export, importer, matrix
from app.communities.forms import AssessForm, CommunityForm, ImportForm, ReturnForm, ReviewForm, RuleForm
from app.engines import community as rules
from app.errors import render_error
from app.extensions import db
from app.locking import is_stale
from app.models import Community, CommunityEvidence, CommunityItem, CommunityRule, Department, Region
from app.models.community import STREET_KIND
from app.params import has_control, int_arg, parse_int
from app.permissions import ensure, has_permission
from workflows import community_review as review
from workflows.forecast_recompute import request_recompute

STALE = "该评估项已被他人处理或修改，您的操作未生效。请刷新页面查看最新状态。"
STALE_COMMUNITY = "该社区信息已被他人修改，您的修改未保存。请刷新页面后重试。"
STALE_RULE = "智慧社区认定规则已被他人修改，您的修改未保存。请刷新页面后重试。"
MAX_NUMBER = 1e12


def _region() -> Region:
    """The region whose communities the page shows: the user's own; the province and
    admin choose one (?region=)."""
    if not access.can_view_communities(current_user):
        abort(403)
    if has_permission(current_user, "view_all"):
        rid = int_arg("region", default=None, label="区域")
        if rid is None:
            rid = db.session.scalar(select(Community.region_id).order_by(Community.region_id).limit(1))
        region = db.session.get(Region, rid) if rid else None
        if region is None:
            abort(404)
        return region
    if current_user.region is None:
        abort(404)
    return current_user.region


def _streets(region_id: int) -> list[Department]:
    return db.session.scalars(
        select(Department)
        .where(Department.region_id == region_id, Department.kind == STREET_KIND)
        .order_by(Department.name)
    ).all()


@bp.route("/communities")
@login_required
def index():
    region = _region()
    street_id = int_arg("street", default=None, strict=False)
    view = matrix.build(region, access.community_filter(current_user), street_id)
    return render_template(
        "communities/matrix.html",
        region=region,
        view=view,
        street_id=street_id,
        regions=db.session.scalars(select(Region).order_by(Region.id)).all()
        if has_permission(current_user, "view_all")
        else [],
        rule_form=RuleForm(formdata=None, **_rule_defaults(region.id)),
        can_edit=has_permission(current_user, "edit_communities"),
    )


@bp.route("/communities.xlsx")
@login_required
def export_xlsx():
    region = _region()
    street_id = int_arg("street", default=None, strict=False)
    view = matrix.build(region, access.community_filter(current_user), street_id)
    data = export.matrix_xlsx(region, view)
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{region.name}智慧社区评估矩阵.xlsx",
    )


def _rule_defaults(region_id: int) -> dict:
    rule = db.session.get(CommunityRule, region_id)
    if rule is None:
        return {"required_items": coverage.TOTAL_ITEMS, "note": "", "version": "0"}
    return {"required_items": rule.required_items, "note": rule.note or "", "version": str(rule.version)}


def _office_region() -> Region:
    """The plan office's own region, whose communities it edits (none: 404)."""
    ensure(current_user, "edit_communities")
    if current_user.region is None:
        abort(404)
    return current_user.region


@bp.route("/communities/rule", methods=["POST"])
@login_required
def edit_rule():
    region = _office_region()
    form = RuleForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(url_for("communities.index"))
    rule = db.session.get(CommunityRule, region.id)
    if (rule.version if rule else 0) != parse_int(form.version.data or "", low=0):
        return render_error(409, STALE_RULE)
    before = {"required_items": rule.required_items if rule else coverage.TOTAL_ITEMS}
    if rule is None:
        rule = CommunityRule(region_id=region.id)
        db.session.add(rule)
    rule.required_items = form.required_items.data
    rule.note = (form.note.data or "").strip() or None
    try:
        db.session.flush()
        audit.record(
            current_user,
            "community.rule",
            rule,
            f"智慧社区认定规则改为至少 {rule.required_items} 项审核达标",
            before=before,
            after={"required_items": rule.required_items},
            region_id=region.id,
        )
        plans = coverage.record_coverage(region.id, current_user)
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return render_error(409, STALE_RULE)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("communities.index"))
    for plan_id in plans:
        request_recompute(plan_id)
    flash(f"已保存：社区至少 {rule.required_items} 项审核达标即认定为智慧社区。", "success")
    return redirect(url_for("communities.index"))


# -- one community ---------------------------------------------------------------------


def _can_assess(community: Community) -> bool:
    return (
        has_permission(current_user, "assess_community") and community.street_id == current_user.department_id
    )


def _item_rows(community: Community, posted=None) -> list[dict]:
    have = {i.number: i for i in community.items}
    rows = []
    for spec in coverage.standard_items():
        number = spec["number"]
        item = have.get(number)
        numbers = (item.numbers if item else None) or {}
        rows.append(
            {
                "spec": spec,
                "item": item,
                "quantities": rules.quantities_of(number),
                "numbers": numbers,
                "results": rules.measure(number, numbers, community.households),
                "editable": item is None or item.state in ("draft", "returned"),
                "cell": item.cell if item else "empty",
            }
        )
    return rows


def _render(community: Community, errors=None, status=200):
    rows = _item_rows(community)
    met = sum(1 for r in rows if r["cell"] == "met")
    required = coverage.required_items(community.region_id)
    return (
        render_template(
            "communities/community.html",
            c=community,
            rows=rows,
            met=met,
            required=required,
            smart=rules.is_smart(met, required),
            can_assess=_can_assess(community),
            can_review=has_permission(current_user, "review")
            and community.region_id == current_user.region_id,
            can_edit=has_permission(current_user, "edit_communities"),
            form=AssessForm(formdata=None),
            review_form=ReviewForm(formdata=None),
            return_form=ReturnForm(formdata=None),
            errors=errors or [],
            posted=request.form if errors else {},
        ),
        status,
    )


@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@login_required
def community(community_id: int):
    c = access.load_community(current_user, community_id)
    if request.method == "GET":
        return _render(c)
    ensure(current_user, "assess_community")
    if c.street_id != current_user.department_id:
        abort(403)
    if not AssessForm().validate_on_submit():
        return render_error(400)
    action = request.form.get("action", "save")
    if action not in ("save", "submit"):
        return render_error(400)
    written: list[str] = []
    try:
        errors, changed, submitted = _apply(c, action, written)
        if errors:
            raise review.TransitionError("")
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        uploads.discard(written)
        db.session.refresh(c)
        messages = errors if errors else [str(exc)]
        for m in messages:
            flash(m, "error")
        return _render(c, messages, 400)
    except uploads.UploadError as exc:
        db.session.rollback()
        uploads.discard(written)
        db.session.refresh(c)
        flash(str(exc), "error")
        return _render(c, [str(exc)], 400)
    except (StaleDataError, IntegrityError, _Stale):
        db.session.rollback()
        uploads.discard(written)
        return render_error(409, STALE)
    if submitted:
        flash(f"已提交 {submitted} 项，等待统筹部门审核。", "success")
    elif changed:
        flash(f"已保存 {changed} 项（草稿，尚未提交）。", "success")
    else:
        flash("没有需要保存的修改。", "success")
    return redirect(url_for("communities.community", community_id=c.id))


class _Stale(Exception):
    pass


def _read_numbers(number: str, form) -> tuple[dict, list[str]]:
    numbers, errors = {}, []
    for q in rules.quantities_of(number):
        raw = (form.get(f"item-{number}-{q.key}") or "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            errors.append(f"第 {number} 项：{q.label}“{raw[:20]}”不是数字。")
            continue
        if value != value or abs(value) > MAX_NUMBER:
            errors.append(f"第 {number} 项：{q.label}超出范围。")
            continue
        if q.whole and value != int(value):
            errors.append(f"第 {number} 项：{q.label}应为整数。")
            continue
        numbers[q.key] = int(value) if q.whole else value
    return numbers, errors


def _apply(c: Community, action: str, written: list) -> tuple[list[str], int, int]:
    """Save every editable item from the posted form (and submit those answered when the
    action is submit): all or nothing. Returns (errors, items changed, items submitted)."""
    form = request.form
    have = {i.number: i for i in c.items}
    errors: list[str] = []
    changed = submitted = 0
    for position, spec in enumerate(coverage.standard_items()):
        number = spec["number"]
        if f"item-{number}-version" not in form:
            continue  # not on the page (approved or awaiting review)
        item = have.get(number)
        version = parse_int(form.get(f"item-{number}-version") or "", low=0)
        if version != (item.version if item else 0):
            raise _Stale()
        raw_met = form.get(f"item-{number}-met", "")
        if raw_met not in ("", "1", "0"):
            errors.append(f"第 {number} 项：“是否达标”的取值无效。")
            continue
        met = None if raw_met == "" else raw_met == "1"
        numbers, number_errors = _read_numbers(number, form)
        note = (form.get(f"item-{number}-note") or "").strip() or None
        if note and (has_control(note) or len(note) > 2000):
            number_errors.append(f"第 {number} 项：说明含不允许的控制字符或超过 2000 字。")
        if number_errors:
            errors.extend(number_errors)
            continue
        files = [f for f in request.files.getlist(f"item-{number}-files") if f and f.filename]
        if item is None:
            if met is None and not numbers and not note and not files:
                continue
            item = CommunityItem(community=c, number=number, position=position, state="draft")
            db.session.add(item)
        try:
            if review.save(item, current_user, met, numbers, note):
                changed += 1
            for storage in files:
                fields = uploads.store(storage)
                written.append(fields["stored_name"])
                ev = CommunityEvidence(item=item, uploaded_by_id=current_user.id, **fields)
                db.session.add(ev)
                audit.record(
                    current_user,
                    "community_evidence.upload",
                    ev,
                    f"上传{c.name}第 {number} 项佐证材料“{ev.original_name}”",
                    after={"sha256": ev.sha256, "size": ev.size},
                    region_id=c.region_id,
                )
                changed += 1 if not changed else 0
            if action == "submit" and item.met is not None:
                review.submit(item, current_user)
                submitted += 1
        except review.TransitionError as exc:
            errors.append(str(exc))
    if action == "submit" and not submitted and not errors:
        errors.append("没有可提交的评估项：请至少为一项选择“达标”或“未达标”。")
    return errors, changed, submitted


# -- review --------------------------------------------------------------------------------


def _reviewable(item_id: int) -> CommunityItem:
    item = access.load_community_item(current_user, item_id)
    ensure(current_user, "review")
    return item


def _approve(c: Community, items: list[CommunityItem], done: str, anchor: str = ""):
    """Approve the items (all or nothing), write the coverage where it moved, queue those
    plans' recompute and say where the community and the region now stand."""
    back = url_for("communities.community", community_id=c.id)
    try:
        for item in items:
            review.approve(item, current_user)
        db.session.flush()
        plans = coverage.record_coverage(c.region_id, current_user)
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back + anchor)
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE)
    except ValueError as exc:  # a coverage link with the wrong unit
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    for plan_id in plans:
        request_recompute(plan_id)
    state = coverage.region_state(c.region_id)
    flash(
        f"{done}{c.name}"
        f"{'已认定为智慧社区' if state.is_smart(c.id) else '尚未达到智慧社区标准'}；"
        f"{coverage.COVERAGE_NAME}：{state.smart}/{state.total} = {rules.fmt(state.rate or 0)}%"
        + ("，星级测算将随之更新。" if plans else "。"),
        "success",
    )
    return redirect(back + anchor)


@bp.route("/community-items/<int:item_id>/approve", methods=["POST"])
@login_required
def approve_item(item_id: int):
    item = _reviewable(item_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, item):
        return render_error(409, STALE)
    anchor = f"#item-{item.number}"
    return _approve(item.community, [item], f"已通过第 {item.number} 项。", anchor)


@bp.route("/community-items/<int:item_id>/return", methods=["POST"])
@login_required
def return_item(item_id: int):
    item = _reviewable(item_id)
    form = ReturnForm()
    c = item.community
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(url_for("communities.community", community_id=c.id) + f"#item-{item.number}")
    if is_stale(form.version, item):
        return render_error(409, STALE)
    try:
        review.return_(item, current_user, form.reason.data)
        db.session.commit()
    except review.TransitionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE)
    else:
        flash(f"已退回第 {item.number} 项。", "success")
    return redirect(url_for("communities.community", community_id=c.id) + f"#item-{item.number}")


@bp.route("/community-evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    ev = access.load_community_evidence(current_user, evidence_id)
    path = uploads.path_of(ev)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=ev.content_type, as_attachment=True, download_name=ev.original_name)


# -- communities added and edited by the plan office --------------------------------------


def _community_form(region_id: int, obj=None) -> CommunityForm:
    if request.method == "POST":
        form = CommunityForm()
    elif obj is None:
        form = CommunityForm(formdata=None, version="0")
    else:
        form = CommunityForm(formdata=None, obj=obj, version=str(obj.version))
    form.street_id.choices = [(d.id, d.name) for d in _streets(region_id)]
    return form


FIELDS = ["name", "street_id", "households"]


@bp.route("/communities/new", methods=["GET", "POST"])
@login_required
def new_community():
    region = _office_region()
    form = _community_form(region.id)
    if request.method == "POST" and form.validate_on_submit():
        c = Community(
            region_id=region.id,
            name=form.name.data.strip(),
            street_id=form.street_id.data,
            households=form.households.data,
        )
        db.session.add(c)
        try:
            audit.record(
                current_user, "community.create", c, f"新增社区“{c.name}”", after=audit.snapshot(c, FIELDS)
            )
            plans = coverage.record_coverage(region.id, current_user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.name.errors.append(f"本区域已有名为“{form.name.data.strip()}”的社区。")
        else:
            for plan_id in plans:
                request_recompute(plan_id)
            flash(f"已新增社区“{c.name}”。", "success")
            return redirect(url_for("communities.community", community_id=c.id))
    status = 400 if request.method == "POST" else 200
    return render_template("communities/edit.html", form=form, c=None, region=region), status


@bp.route("/communities/<int:community_id>/edit", methods=["GET", "POST"])
@login_required
def edit_community(community_id: int):
    c = access.load_community(current_user, community_id)
    ensure(current_user, "edit_communities")
    form = _community_form(c.region_id, c if request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        if is_stale(form.version, c):
            return render_error(409, STALE_COMMUNITY)
        before = audit.snapshot(c, FIELDS)
        c.name, c.street_id, c.households = form.name.data.strip(), form.street_id.data, form.households.data
        try:
            db.session.flush()
            audit.record(
                current_user, "community.edit", c, f"修改社区“{c.name}”", before, audit.snapshot(c, FIELDS)
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.name.errors.append(f"本区域已有名为“{form.name.data.strip()}”的社区。")
        except StaleDataError:
            db.session.rollback()
            return render_error(409, STALE_COMMUNITY)
        else:
            flash(f"已保存社区“{c.name}”。", "success")
            return redirect(url_for("communities.community", community_id=c.id))
    status = 400 if request.method == "POST" else 200
    return render_template("communities/edit.html", form=form, c=c, region=c.region), status


@bp.route("/communities/import", methods=["GET", "POST"])
@login_required
def import_workbook():
    region = _office_region()
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


@bp.route("/community-evidence/<int:evidence_id>/delete", methods=["POST"])
@login_required
def delete_evidence(evidence_id: int):
    """The street takes a file off an item it has not submitted yet (a draft or a returned one)."""
    ev = access.load_community_evidence(current_user, evidence_id)
    ensure(current_user, "assess_community")
    item = ev.item
    c = item.community
    if c.street_id != current_user.department_id or item.state not in ("draft", "returned"):
        abort(403)
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, item):
        return render_error(409, STALE)
    name, stored = ev.original_name, ev.stored_name
    audit.record(
        current_user,
        "community_evidence.delete",
        ev,
        f"删除{c.name}第 {item.number} 项佐证材料“{name}”",
        before={"item_id": item.id, "sha256": ev.sha256},
        region_id=c.region_id,
    )
    db.session.delete(ev)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE)
    uploads.discard([stored])
    flash(f"已删除佐证材料“{name}”。", "success")
    return redirect(url_for("communities.community", community_id=c.id) + f"#item-{item.number}")


@bp.route("/communities/import-template.xlsx")
@login_required
def import_template():
    """The import workbook with the region's communities as they are now."""
    region = _office_region()
    rows = [
        (c.street.name, c.name, c.households)
        for c in db.session.scalars(
            select(Community)
            .where(Community.region_id == region.id)
            .order_by(Community.street_id, Community.name)
        )
    ]
    return send_file(
        io.BytesIO(importer.template_xlsx(rows)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{region.name}社区名单.xlsx",
    )


@bp.route("/communities/<int:community_id>/approve-all", methods=["POST"])
@login_required
def approve_all(community_id: int):
    """Approve every item of the community awaiting review, as the page showed them (the
    posted `items` lists id:version of each): all or nothing."""
    c = access.load_community(current_user, community_id)
    ensure(current_user, "review")
    form = ReviewForm()
    if not form.validate_on_submit():
        return render_error(400)
    shown = {}
    for part in (request.form.get("items") or "").split(","):
        item_id, _, version = part.partition(":")
        if parse_int(item_id) is None or parse_int(version) is None:
            return render_error(400)
        shown[int(item_id)] = int(version)
    pending = {i.id: i for i in c.items if i.state == "submitted"}
    if not shown or shown != {i.id: i.version for i in pending.values()}:
        return render_error(409, STALE)
    items = sorted(pending.values(), key=lambda i: i.position)
    return _approve(c, items, f"已通过 {len(items)} 项。")
