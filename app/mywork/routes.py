"""我的工作: a department's milestones, reports, notices and notifications."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from app import access, audit, clock, section_cache, uploads
from app.errors import render_error
from app.extensions import db
from app.forecasting.known import DIRECT_TABLE
from app.listing import PageInfo
from app.locking import is_stale
from app.models import (
    Evidence,
    Indicator,
    IndicatorValue,
    Milestone,
    Notification,
    Plan,
    ProgressReport,
    User,
)
from app.mywork import bp
from app.mywork.forms import EvidenceRemoveForm, ReportForm
from app.mywork.notices import department_notices
from app.mywork.reports import PendingReport, create_report, pending_report, save_report
from app.params import MAX_PAGE, int_arg
from app.permissions import ensure
from app.plans.content_version import region_key
from app.status.many_plans import milestone_statuses

NOTIFICATIONS_PER_PAGE = 50


# A department of a big plan answers for hundreds of milestones: the open ones come a page
# at a time (by due date), the finished ones as the most recent few with their count.
MY_PAGE = 50
DONE_SHOWN = 20


@bp.route("/my")
@login_required
def index():
    dept_id = current_user.department_id
    page = int_arg("page", high=MAX_PAGE, default=1, strict=False)
    # Everything the page shows is the region's plans' rows (their content versions; the
    # date for the 三色 colours): the milestone lists and indicator plans as this department
    # and role see them; the 督办 notices and returned work with what this user may do.
    region = region_key(current_user.region_id, clock.today())
    lists = section_cache.section(
        ("mywork", current_user.role, dept_id, page, MY_PAGE, DONE_SHOWN, *region),
        lambda: _lists(dept_id, page),
    )
    top = section_cache.section_with_forms(
        ("mywork-top", current_user.id, current_user.role, dept_id, *region), lambda: _top(dept_id)
    )
    return render_template("mywork/index.html", top=top, lists=lists)


def _top(dept_id: int | None) -> str:
    notices = returned = returned_values = []
    if dept_id is not None:
        notices = department_notices(dept_id)
        returned = db.session.scalars(
            select(ProgressReport)
            .where(ProgressReport.department_id == dept_id, ProgressReport.state == "returned")
            .options(joinedload(ProgressReport.milestone))
            .order_by(ProgressReport.reviewed_at.desc())
        ).all()
        returned_values = _returned_values(dept_id)
    return render_template(
        "mywork/_top.html", notices=notices, returned=returned, returned_values=returned_values
    )


def _lists(dept_id: int | None, page: int) -> str:
    """The open milestones (a page by due date, with their colours), the indicator plans and
    the latest finished milestones."""
    open_page = done_milestones = []
    open_total = done_total = 0
    if dept_id is not None:
        mine = access.visible_milestones(current_user).where(
            (Milestone.lead_department_id == dept_id) | Milestone.co_departments.any(id=dept_id)
        )
        is_done = Milestone.status == "done"
        # The list shows the milestone's own columns only (title, role, due, status, colour).
        open_stmt = mine.where(~is_done).order_by(Milestone.due_date, Milestone.id)
        open_page, open_total = _counted_page(open_stmt, MY_PAGE, page)
        if not open_page and page > 1:  # past the end (a stale link): the first page
            page = 1
            open_page, open_total = _counted_page(open_stmt, MY_PAGE, page)
        done_milestones, done_total = _counted_page(
            mine.where(is_done).order_by(Milestone.actual_finish.desc().nulls_last(), Milestone.id.desc()),
            DONE_SHOWN,
            1,
        )
    return render_template(
        "mywork/_lists.html",
        tri_status=_statuses(open_page),
        open_milestones=open_page,
        open_total=open_total,
        per_page=MY_PAGE,
        pager=PageInfo(page, open_total, MY_PAGE),
        done_milestones=done_milestones,
        done_total=done_total,
        indicator_plans=_indicator_plans(),
    )


def _counted_page(stmt, per_page: int, page: int) -> tuple[list[Milestone], int]:
    """One page of stmt's milestones and how many there are in all, in one statement (the
    count as a window over the same rows; 0 when the page is past the end)."""
    rows = db.session.execute(
        stmt.add_columns(func.count().over().label("total")).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [r[0] for r in rows], (rows[0].total if rows else 0)


def _statuses(milestones) -> dict:
    """{milestone id: 三色 Status} for the department's open milestones: read for those
    milestones only, not for the whole of each plan."""
    found = milestone_statuses(
        {m.plan_id for m in milestones},
        clock.today(),
        milestone_ids=[m.id for m in milestones],
        rows=[(m.id, m.plan_id, m.due_date, m.status, m.percent) for m in milestones],
    )
    return {mid: st for mid, (_, st) in found.items()}


def _returned_values(dept_id: int) -> list[IndicatorValue]:
    """Values this department entered that were returned and not yet followed by a newer value."""
    newer = aliased(IndicatorValue)
    return db.session.scalars(
        select(IndicatorValue)
        .join(User, IndicatorValue.entered_by_id == User.id)
        .where(
            User.department_id == dept_id,
            IndicatorValue.state == "returned",
            ~select(newer.id)
            .where(newer.indicator_id == IndicatorValue.indicator_id, newer.id > IndicatorValue.id)
            .exists(),
        )
        .options(selectinload(IndicatorValue.indicator), selectinload(IndicatorValue.reviewed_by))
        .order_by(IndicatorValue.reviewed_at.desc())
    ).all()


def _indicator_plans() -> list[tuple[Plan, int]]:
    """Plans with indicators this user may see (a department: those it answers for), with counts."""
    rows = db.session.execute(
        select(Plan, func.count(Indicator.id))
        .join(Indicator, Indicator.plan_id == Plan.id)
        .where(access.indicator_filter(current_user), Indicator.table_name.is_distinct_from(DIRECT_TABLE))
        .group_by(Plan.id)
        .order_by(Plan.code)
    ).all()
    return [(plan, count) for plan, count in rows]


def _report_fields(form: ReportForm) -> dict:
    return {
        "percent": form.percent.data,
        "claimed_status": form.claimed_status.data,
        "text": form.text.data,
        "files": form.files.data,
        "submit": form.action.data != "draft",
    }


def _to_pending(pending: ProgressReport):
    flash(f"本部门已有一份“{pending.state_label}”的汇报，请在其基础上修改。", "info")
    return redirect(url_for("mywork.edit_report", report_id=pending.id))


@bp.route("/milestones/<int:milestone_id>/report", methods=["GET", "POST"])
@login_required
def new_report(milestone_id: int):
    milestone = access.load_milestone(current_user, milestone_id)
    ensure(current_user, "report")
    kind = access.report_kind_for(current_user, milestone)
    if kind is None:
        abort(403)
    form = ReportForm()
    if form.validate_on_submit():
        fields = _report_fields(form)
        try:  # create_report looks for the department's pending report itself
            _report, error = create_report(current_user, milestone, kind, **fields)
        except PendingReport as exc:
            return _to_pending(exc.report)
        if error is None:  # committed: the ids at hand, not the expired rows read again
            flash("汇报已提交，等待统筹部门审核。" if fields["submit"] else "草稿已保存。", "success")
            return redirect(url_for("plans.milestone", milestone_id=milestone_id))
        flash(error, "error")
    else:
        pending = pending_report(milestone.id, current_user.department_id)
        if pending is not None:
            return _to_pending(pending)
        if request.method == "GET":
            form.percent.data = milestone.percent
            form.claimed_status.data = "in_progress" if milestone.status != "done" else "done"
    return render_template("mywork/report_form.html", form=form, milestone=milestone, kind=kind, report=None)


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@login_required
def edit_report(report_id: int):
    report = access.load_report(current_user, report_id)
    ensure(current_user, "report")
    if report.department_id != current_user.department_id:
        abort(403)
    if report.state not in ("draft", "returned"):
        flash(f"该汇报当前为“{report.state_label}”，不能修改。", "error")
        return redirect(url_for("plans.milestone", milestone_id=report.milestone_id))
    form = ReportForm(obj=report if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = report.version
    if form.validate_on_submit():
        if is_stale(form.version, report):
            db.session.rollback()
            return render_error(409, "该汇报已在其他窗口或被他人修改，您的修改未保存。请刷新页面后重试。")
        error = save_report(current_user, report, is_new=False, **_report_fields(form))
        if error is None:
            flash("汇报已重新提交。" if report.state == "submitted" else "草稿已保存。", "success")
            return redirect(url_for("plans.milestone", milestone_id=report.milestone_id))
        flash(error, "error")
    return render_template(
        "mywork/report_form.html",
        form=form,
        milestone=report.milestone,
        kind=report.kind,
        report=report,
    )


REMOVABLE_STATES = ("draft", "returned")
STALE_EVIDENCE = "该汇报已在其他窗口或被他人修改，佐证材料未删除。请刷新页面后重试。"


@bp.route("/reports/<int:report_id>/evidence/<int:evidence_id>/delete", methods=["POST"])
@login_required
def remove_evidence(report_id: int, evidence_id: int):
    """Take one evidence file off a draft or returned report of the user's own department."""
    report = access.load_report(current_user, report_id)
    ensure(current_user, "report")
    if report.department_id != current_user.department_id:
        abort(403)
    item = db.session.scalar(
        select(Evidence).where(Evidence.id == evidence_id, Evidence.report_id == report.id)
    )
    if item is None:
        abort(404)
    if report.state not in REMOVABLE_STATES:
        return render_error(403, f"该汇报当前为“{report.state_label}”，其佐证材料不能删除。")
    form = EvidenceRemoveForm()
    if not form.validate_on_submit():
        return render_error(400)
    if is_stale(form.version, report):
        return render_error(409, STALE_EVIDENCE)
    stored_name, name = item.stored_name, item.original_name
    try:
        audit.record(
            current_user,
            "evidence.delete",
            item,
            f"删除佐证材料“{name}”",
            before={"name": name, "sha256": item.sha256, "size": item.size, "report_id": report.id},
            milestone=report.milestone,
        )
        db.session.delete(item)
        flag_modified(report, "text")  # bumps the report's version: a second click from this page is stale
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_error(409, STALE_EVIDENCE)
    uploads.discard([stored_name])  # the file goes only once the row is gone for good
    flash(f"已删除佐证材料“{name}”。", "success")
    return redirect(url_for("mywork.edit_report", report_id=report.id))


@bp.route("/evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    item = access.load_evidence(current_user, evidence_id)
    if item.report is not None and item.report.state == "draft":
        if item.report.department_id != current_user.department_id:
            abort(404)
    path = uploads.path_of(item)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.original_name)


@bp.route("/notifications")
@login_required
def notifications():
    """The user's messages, newest first, NOTIFICATIONS_PER_PAGE a page."""
    page = db.paginate(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=int_arg("page", high=MAX_PAGE, default=1, strict=False),
        per_page=NOTIFICATIONS_PER_PAGE,
        error_out=False,
    )
    return render_template("mywork/notifications.html", page=page, items=page.items)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=clock.utcnow())
    )
    db.session.commit()
    return redirect(url_for("mywork.notifications"))
