"""`flask reminders scan|send|log`: run and inspect the reminder jobs by hand."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Reminder, ReminderDelivery

reminders_cli = AppGroup("reminders", help="Deadline reminders: scan, send, log.")


def _echo(data, as_json):
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


@reminders_cli.command("scan")
@click.option("--json", "as_json", is_flag=True, help="print the counts as JSON")
def scan_command(as_json):
    """Insert the reminders due since the last scan (as of the clock date)."""
    from workflows.reminders_scan import scan

    _echo(scan(), as_json)


@reminders_cli.command("send")
@click.option("--json", "as_json", is_flag=True, help="print the counts as JSON")
@click.option(
    "--scheduled",
    is_flag=True,
    help="behave like the periodic job: hold daily digests until each user's digest hour",
)
def send_command(as_json, scheduled):
    """Send pending reminders now (digests included, one message per user and channel)."""
    from workflows.reminders_send import send_pending

    _echo(send_pending(respect_digest=scheduled), as_json)


def log_rows(limit=None, status=None, channel=None, milestone_id=None) -> list[dict]:
    stmt = (
        select(ReminderDelivery)
        .join(Reminder)
        .options(joinedload(ReminderDelivery.reminder).joinedload(Reminder.recipient))
        .order_by(
            Reminder.slot,
            Reminder.milestone_id,
            Reminder.recipient_id,
            Reminder.kind,
            ReminderDelivery.channel,
        )
    )
    if status:
        stmt = stmt.where(ReminderDelivery.status == status)
    if channel:
        stmt = stmt.where(ReminderDelivery.channel == channel)
    if milestone_id:
        stmt = stmt.where(Reminder.milestone_id == milestone_id)
    if limit:
        stmt = stmt.limit(limit)
    rows = []
    for d in db.session.scalars(stmt):
        r = d.reminder
        rows.append(
            {
                "reminder_id": r.id,
                "milestone_id": r.milestone_id,
                "recipient": r.recipient.username,
                "recipient_id": r.recipient_id,
                "kind": r.kind,
                "slot": r.slot.isoformat(),
                "send_on": r.send_on.isoformat(),
                "channel": d.channel,
                "status": d.status,
                "attempts": d.attempts,
                "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                "target": d.target,
                "error": d.error,
                "reminder_status": r.status,
            }
        )
    return rows


@reminders_cli.command("log")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list (one row per reminder and channel)")
@click.option("--status", default=None, help="only deliveries in this state (pending, sent, failed, …)")
@click.option("--channel", default=None, help="in_app, email or webhook")
@click.option("--milestone", "milestone_id", type=int, default=None)
@click.option("--limit", type=int, default=None)
def log_command(as_json, status, channel, milestone_id, limit):
    """One row per reminder and channel: milestone, recipient, kind, slot, channel, status, sent_at."""
    rows = log_rows(limit, status, channel, milestone_id)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        click.echo(
            f"{r['slot']} {r['kind']:<18} m{r['milestone_id']:<6} {r['recipient']:<16} "
            f"{r['channel']:<8} {r['status']:<9} {r['sent_at'] or ''}"
        )
