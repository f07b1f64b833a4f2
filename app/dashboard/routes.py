"""Routes of the 驾驶舱 (plan dashboard), the lists behind its counts, and the province view.

All read-only (GET): plans through access.load_viewable_plan (403 without a plan-viewing
permission, 404 outside the user's region); the province view needs view_all.
"""

from __future__ import annotations

import io
from datetime import timedelta

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from app import access, clock, section_cache
from app.dashboard import bp, counts, exceptions, province
from app.dashboard.export import province_xlsx
from app.dashboard.pending import review_counts
from app.dashboard.runs import change, headline, run_known_on
from app.engines import status as rules
from app.errors import render_error
from app.extensions import db
from app.listing import PageInfo, search_text
from app.models import Plan
from app.params import MAX_PAGE, int_arg
from app.permissions import has_permission, require
from app.plans.content_version import plan_key
from app.stars.present import prob, star_text
from app.status import plan_status

WEEK_DAYS = 7
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def helpers():
    return {
        "prob": prob,
        "star_text": star_text,
        "colour_labels": rules.LABELS,
        "colour_meanings": rules.MEANINGS,
        "colours": rules.ORDER,
        "plan_url": province.plan_url,
    }


@bp.route("/dashboard")
@login_required
def home():
    """The user's plan dashboard: straight to it when the region has one plan, else a choice."""
    if not access.can_view_plans(current_user):
        abort(403)
    plan_filter = access.plan_filter(current_user)
    only = db.session.scalars(select(Plan.code).where(plan_filter).limit(2)).all()
    if len(only) == 1:
        return redirect(url_for("dashboard.plan", code=only[0]))
    page = _area_page()
    return render_template("dashboard/choose.html", page=page, rows=page.rows)


# A plan of thousands of milestones must not put them all on one page: the 驾驶舱 shows
# the first of each colour and links to the whole list, which pages.
DASH_ITEMS = 20
LIST_PAGE = 100
NODE_GRID_MAX = 150  # nodes; past this the count grid stops at the second level


def _plan_key(section: str, plan, today, can_act: bool, *variant) -> tuple:
    """The key of a plan-wide section of the 驾驶舱: the plan's rows (its content_version
    with the date; the stored runs, the one a week back too, are among them), the plan row
    itself, whether the viewer may act (督办 links) and the section's own variant."""
    return (section, *plan_key(plan, today), plan.updated_at, can_act, *variant)


@bp.route("/plans/<code>/dashboard")
@login_required
def plan(code: str):
    plan = access.load_viewable_plan(current_user, code)
    today = clock.today()
    can_act = has_permission(current_user, "issue_notice")
    week_day = today - timedelta(days=WEEK_DAYS)

    def render() -> str:
        ps = plan_status(plan, today)
        now = headline(ps.run)
        week_run = run_known_on(plan.id, week_day)
        red_rows, yellow_rows = ps.red_list(), ps.select(rules.YELLOW)
        return render_template(
            "dashboard/_plan_body.html",
            plan=plan,
            ps=ps,
            now=now,
            week=change(now, headline(week_run)),
            week_day=week_day,
            red=exceptions.shape(red_rows[:DASH_ITEMS]),
            red_total=len(red_rows),
            yellow=exceptions.shape(yellow_rows[:DASH_ITEMS]),
            yellow_total=len(yellow_rows),
            node_rows=counts.node_rows(ps, max_depth=None if len(ps.nodes) <= NODE_GRID_MAX else 1),
            nodes_cut=len(ps.nodes) > NODE_GRID_MAX,
            department_rows=counts.department_rows(ps),
            can_act=can_act,
        )

    key = _plan_key("dashboard", plan, today, can_act, DASH_ITEMS, NODE_GRID_MAX)
    return render_template(
        "dashboard/plan.html",
        plan=plan,
        body=section_cache.section(key, render),
        pending=review_counts(current_user) if has_permission(current_user, "review") else None,
    )


@bp.route("/plans/<code>/dashboard/list")
@login_required
def items(code: str):
    plan = access.load_viewable_plan(current_user, code)
    today = clock.today()
    can_act = has_permission(current_user, "issue_notice")
    asked = int_arg("page", high=MAX_PAGE, default=1, strict=False)

    def render() -> tuple[str, Markup]:
        ps = plan_status(plan, today)
        f = counts.parse_filter(ps, request.args)  # BadFilter: nothing kept, answered below
        selected = ps.select(f.colour, f.node_id, f.department_id)
        pages = max(1, -(-len(selected) // LIST_PAGE))
        page = min(asked, pages)
        title = counts.describe(ps, f)
        body = render_template(
            "dashboard/_list_body.html",
            plan=plan,
            ps=ps,
            f=f,
            title=title,
            rows=exceptions.shape(selected[(page - 1) * LIST_PAGE : page * LIST_PAGE]),
            total=len(selected),
            pager_info=PageInfo(page, len(selected), LIST_PAGE),
            can_act=can_act,
        )
        return title, Markup(body)

    # What the query string asks for (a big plan's list was 0.8 s of plan_status a page).
    args = tuple(request.args.get(k) for k in ("colour", "node", "department"))
    key = _plan_key("dashboard-list", plan, today, can_act, args, asked, LIST_PAGE)
    try:
        title, body = section_cache.kept(key, render, size=lambda v: len(v[1]))
    except counts.BadFilter as exc:
        return render_error(400, str(exc))
    return render_template("dashboard/list.html", plan=plan, title=title, body=body)


def _area_page() -> province.AreaPage:
    """The page of areas the query string asks for (?q= ?sort= ?dir= ?page=); the counts it
    had to recompute are stored (committed) for the next request."""
    page = province.area_page(
        access.plan_filter(current_user),
        clock.today(),
        q=search_text(request.args.get("q")),
        sort=request.args.get("sort"),
        direction=request.args.get("dir"),
        page=int_arg("page", high=province.MAX_PAGE, default=1, strict=False),
    )
    if page.recomputed:
        db.session.commit()
    return page


@bp.route("/province")
@require("view_all")
def province_view():
    page = _area_page()
    # The rows' markup follows from their values alone (repr names every field shown).
    rows_html = section_cache.section(
        ("province-rows", repr(page.rows), page.q),
        lambda: render_template("dashboard/_province_rows.html", rows=page.rows, page=page),
    )
    return render_template(
        "dashboard/province.html",
        page=page,
        rows=page.rows,
        rows_html=rows_html,
        sort=page.sort,
        direction=page.direction,
        columns=province.COLUMNS,
        trend_day=clock.today() - timedelta(days=province.TREND_DAYS),
    )


@bp.route("/province.xlsx")
@require("view_all")
def province_export():
    today = clock.today()
    rows, recomputed = province.all_areas(
        access.plan_filter(current_user), today, request.args.get("sort"), request.args.get("dir")
    )
    if recomputed:
        db.session.commit()
    data = province_xlsx(rows, today)
    name = f"province-{today.isoformat()}.xlsx"
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
