"""接口令牌: a signed-in user lists, makes and revokes their own API tokens (the token is
shown once, on the page that makes it). Forms carry CSRF tokens; every change is audited."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from app.api import tokens
from app.auth import bp
from app.extensions import db
from app.forms_base import Form as FlaskForm
from app.models import ApiToken


class TokenCreateForm(FlaskForm):
    name = StringField(
        "名称（用途）",
        validators=[
            DataRequired("请填写令牌名称（用途），如“一网统管对接”。"),
            Length(max=64, message="名称不超过 64 个字。"),
        ],
    )
    days = IntegerField(
        "有效天数",
        validators=[
            DataRequired("请填写有效天数。"),
            NumberRange(1, tokens.MAX_DAYS, f"有效天数应在 1 到 {tokens.MAX_DAYS} 之间。"),
        ],
    )


class TokenRevokeForm(FlaskForm):
    token_id = HiddenField()


def _page(form, new_token=None, status=200):
    return (
        render_template(
            "auth/api_tokens.html",
            form=form,
            revoke_form=TokenRevokeForm(),
            rows=tokens.of_user(current_user.id),
            new_token=new_token,
        ),
        status,
    )


@bp.route("/settings/api-tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = TokenCreateForm()
    if not form.is_submitted():
        form.days.data = current_app.config["API_TOKEN_DEFAULT_DAYS"]
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            _row, secret = tokens.create(user, form.name.data, form.days.data, actor=user)
        except tokens.TokenError as exc:
            form.name.errors = [*form.name.errors, str(exc)]
            return _page(form, status=400)
        db.session.commit()
        flash("接口令牌已创建。令牌只显示这一次，请立即复制保存。", "success")
        return _page(TokenCreateForm(formdata=None, days=form.days.data), new_token=secret)
    return _page(form, status=400 if form.errors else 200)


@bp.route("/settings/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_api_token(token_id: int):
    # Only one's own tokens: another user's token id answers 404, like any object outside scope.
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == current_user.id)
    )
    if row is None:
        abort(404)
    if not TokenRevokeForm().validate_on_submit():
        abort(400)
    if tokens.revoke(row, actor=current_user._get_current_object()):
        db.session.commit()
        flash(f"已吊销接口令牌“{row.name}”，使用它的系统将无法再访问。", "success")
    else:
        flash(f"接口令牌“{row.name}”早已吊销。", "info")
    return redirect(url_for("auth.api_tokens"))
