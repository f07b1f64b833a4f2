"""Reading and writing one user's NotificationSetting, shared by the user's own page and the admin's.

A user without a row gets the column defaults. The form carries a token of the values it
showed; the write is a compare-and-set on those values, so two editors (the user and an
admin) cannot silently overwrite each other.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import audit
from app.extensions import db
from app.models import NotificationSetting, User

FIELDS = ("email", "webhook", "digest", "digest_hour")


class StaleSettings(Exception):
    """The settings changed since the form was shown; nothing was written."""


def column_defaults(model, names) -> dict:
    """The Python-side column defaults of `model` for `names` (what an insert would write)."""
    out = {}
    for name in names:
        default = model.__table__.c[name].default
        arg = default.arg if default is not None else None
        out[name] = arg(None) if callable(arg) else arg
    return out


def current(user_id: int) -> tuple[NotificationSetting | None, dict]:
    row = db.session.scalar(select(NotificationSetting).where(NotificationSetting.user_id == user_id))
    values = {f: getattr(row, f) for f in FIELDS} if row else column_defaults(NotificationSetting, FIELDS)
    return row, values


def token_of(row: NotificationSetting | None, values: dict) -> str:
    if row is None:
        return "new"
    return "{}{}{}-{}".format(*(int(values[f]) for f in FIELDS))


def fill_form(form, user_id: int) -> None:
    row, values = current(user_id)
    form.token.data = token_of(row, values)
    form.email.data = values["email"]
    form.webhook.data = values["webhook"]
    form.digest.data = "digest" if values["digest"] else "instant"
    form.digest_hour.data = values["digest_hour"]


def form_values(form) -> dict:
    return {
        "email": bool(form.email.data),
        "webhook": bool(form.webhook.data),
        "digest": form.digest.data == "digest",
        "digest_hour": int(form.digest_hour.data),
    }


def save(user: User, new: dict, token: str, actor: User) -> NotificationSetting:
    """Write `new` for `user` if the stored values still match `token`; add the audit row.
    Raises StaleSettings otherwise. The caller commits."""
    row, old = current(user.id)
    if token != token_of(row, old):
        raise StaleSettings
    if row is None:
        row = NotificationSetting(user_id=user.id, **new)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:  # created meanwhile by the other editor
            raise StaleSettings from None
    else:
        result = db.session.execute(
            update(NotificationSetting)
            .where(
                NotificationSetting.id == row.id, *(getattr(NotificationSetting, f) == old[f] for f in FIELDS)
            )
            .values(**new)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise StaleSettings
        db.session.expire(row)
    whose = "自己的" if actor.id == user.id else f"用户 {user.username} 的"
    audit.record(
        actor,
        "notification_setting.edit",
        row,
        f"修改{whose}提醒设置",
        before=old,
        after=new,
        region_id=user.region_id,
    )
    return row


def handle_form(form, user: User, actor: User) -> str:
    """One request on a settings form: "show" (first view or invalid input), "saved"
    (committed) or "stale" (changed since the form was drawn; nothing written)."""
    if not form.is_submitted():
        fill_form(form, user.id)
        return "show"
    if not form.validate_on_submit():
        return "show"
    try:
        save(user, form_values(form), form.token.data or "", actor)
        db.session.commit()
    except StaleSettings:
        db.session.rollback()
        return "stale"
    return "saved"
