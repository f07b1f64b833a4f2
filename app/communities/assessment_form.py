"""The assessment form as posted by the street: every editable item's answer, numbers,
note and files, saved (and submitted) all or nothing."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from app import audit, uploads
from app.communities import coverage
from app.engines import community as rules
from app.extensions import db
from app.models import Community, CommunityEvidence, CommunityItem
from app.params import has_control, parse_int
from workflows import community_review as review

MAX_NUMBER = 1e12


class Stale(Exception):
    """The page showed an item at another version than it now has."""


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


def apply_form(c: Community, action: str, written: list) -> tuple[list[str], int, int]:
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
            raise Stale()
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
