"""Admin pages: regions, departments and users."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app import audit
from app.admin import bp
from app.admin.forms import DepartmentForm, RegionForm, UserForm
from app.extensions import db
from app.listing import matching, paged, search_text
from app.models import Department, Region, User
from app.permissions import require

USERS_PER_PAGE = 50  # users and departments a page

USER_FIELDS = ["username", "display_name", "email", "role", "region_id", "department_id", "active"]


def _regions():
    return db.session.scalars(select(Region).order_by(Region.name)).all()


@bp.route("/regions", methods=["GET", "POST"])
@require("admin")
def regions():
    form = RegionForm()
    form.parent_id.choices = [(0, "（无）")] + [(r.id, r.name) for r in _regions()]
    if form.validate_on_submit():
        region = Region(
            name=form.name.data.strip(), kind=form.kind.data, parent_id=form.parent_id.data or None
        )
        db.session.add(region)
        try:
            audit.record(
                current_user,
                "region.create",
                region,
                f"新建区域 {region.name}",
                after={"name": region.name, "kind": region.kind},
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash(f"区域“{form.name.data}”已存在。", "error")
        else:
            flash("区域已创建。", "success")
            return redirect(url_for("admin.regions"))
    rows = db.session.scalars(select(Region).options(joinedload(Region.parent)).order_by(Region.name)).all()
    dept_counts = dict(
        db.session.execute(select(Department.region_id, func.count()).group_by(Department.region_id)).all()
    )
    return render_template("admin/regions.html", form=form, regions=rows, dept_counts=dept_counts)


@bp.route("/departments", methods=["GET", "POST"])
@require("admin")
def departments():
    form = DepartmentForm()
    form.region_id.choices = [(r.id, r.name) for r in _regions()]
    if form.validate_on_submit():
        dept = Department(region_id=form.region_id.data, name=form.name.data.strip(), kind=form.kind.data)
        db.session.add(dept)
        try:
            audit.record(
                current_user,
                "department.create",
                dept,
                f"新建部门 {dept.name}",
                after={"name": dept.name, "kind": dept.kind, "region_id": dept.region_id},
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash(f"该区域已有名为“{form.name.data}”的部门。", "error")
        else:
            flash("部门已创建。", "success")
            return redirect(url_for("admin.departments"))
    q = search_text(request.args.get("q"))
    stmt = (
        select(Department)
        .join(Region)
        .options(joinedload(Department.region))
        .order_by(Region.name, Department.name, Department.id)
    )
    page = paged(matching(stmt, q, Department.name, Region.name), USERS_PER_PAGE)
    return render_template("admin/departments.html", form=form, page=page, departments=page.items, q=q)


@bp.route("/users")
@require("admin")
def users():
    """Users 50 a page, with their region and department loaded alongside (two queries per
    page: the count and the rows); ?q= finds a username, name or department name."""
    q = search_text(request.args.get("q"))
    stmt = (
        select(User)
        .outerjoin(User.department)
        .options(joinedload(User.department), joinedload(User.region))
        .order_by(User.username, User.id)
    )
    page = paged(matching(stmt, q, User.username, User.display_name, Department.name), USERS_PER_PAGE)
    return render_template("admin/users.html", page=page, q=q)


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user if request.method == "GET" else None)
    form.region_id.choices = [(0, "（无：管理员或省级）")] + [(r.id, r.name) for r in _regions()]
    # The region comes with its department (the session keeps no reference to _regions()'s rows).
    depts = db.session.scalars(
        select(Department)
        .join(Region)
        .options(contains_eager(Department.region))
        .order_by(Region.name, Department.name)
    )
    form.department_id.choices = [(0, "（无）")] + [(d.id, f"{d.region.name} · {d.name}") for d in depts]
    if request.method == "GET" and user is not None:
        form.region_id.data = user.region_id or 0
        form.department_id.data = user.department_id or 0
    return form


def _check_user(form: UserForm) -> str | None:
    role, region_id, dept_id = form.role.data, form.region_id.data, form.department_id.data
    if role in ("department", "plan_office") and not dept_id:
        return "责任部门和统筹部门的用户必须选择所属部门。"
    if role in ("department", "plan_office", "leading_group", "street") and not region_id:
        return "该角色必须选择所属区域。"
    if role == "street" and not dept_id:
        return "街道 / 镇的用户必须选择所属街道 / 镇（类型为“街道 / 镇”的部门）。"
    if dept_id:
        dept = db.session.get(Department, dept_id)
        if dept.region_id != region_id:
            return f"部门“{dept.name}”不属于所选区域。"
        if role == "street" and dept.kind != "street":
            return f"街道 / 镇的用户只能属于类型为“街道 / 镇”的部门，“{dept.name}”不是。"
    return None


def _apply(user: User, form: UserForm) -> None:
    user.username = form.username.data.strip()
    user.display_name = form.display_name.data.strip()
    user.email = form.email.data or None
    user.role = form.role.data
    user.region_id = form.region_id.data or None
    user.department_id = form.department_id.data or None
    if user.id is not None and (form.password.data or (user.active and not form.active.data)):
        user.end_sessions()  # a reset password or a deactivated account ends every open session
    user.active = form.active.data
    if form.password.data:
        user.set_password(form.password.data)


@bp.route("/users/new", methods=["GET", "POST"])
@require("admin")
def new_user():
    form = _user_form(None)
    if form.validate_on_submit():
        error = _check_user(form) or (None if form.password.data else "新建用户必须设置密码。")
        if error is None:
            user = User()
            _apply(user, form)
            db.session.add(user)
            try:
                audit.record(
                    current_user,
                    "user.create",
                    user,
                    f"新建用户 {user.username}",
                    after=audit.snapshot(user, USER_FIELDS),
                )
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                error = f"用户名“{form.username.data}”已被使用。"
            else:
                flash("用户已创建。", "success")
                return redirect(url_for("admin.users"))
        flash(error, "error")
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("admin")
def edit_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        return render_template("error.html", code=404, title="页面不存在", message="用户不存在。"), 404
    form = _user_form(user)
    if form.validate_on_submit():
        error = _check_user(form)
        if (
            error is None
            and user.id == current_user.id
            and (form.role.data != "admin" or not form.active.data)
        ):
            error = "不能停用自己的账号或取消自己的管理员角色。"
        if error is None:
            before = audit.snapshot(user, USER_FIELDS)
            _apply(user, form)
            try:
                audit.record(
                    current_user,
                    "user.edit",
                    user,
                    f"修改用户 {user.username}",
                    before=before,
                    after=audit.snapshot(user, USER_FIELDS),
                )
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                error = f"用户名“{form.username.data}”已被使用。"
            else:
                flash("用户已保存。", "success")
                return redirect(url_for("admin.users"))
        flash(error, "error")
    return render_template("admin/user_form.html", form=form, user=user)
