"""`flask forecast` and `flask attainment`: a plan's forecast and target attainment as JSON.

Data are those known on the clock date (app.clock.today(), STARPATH_AS_OF);
`--at` is the target date of the forecast. Errors: one line on stderr, exit 2.
"""

import json
import sys
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import clock
from app.engines.forecast import DEFAULT_SEED, forecast
from app.engines.scoring import score
from app.extensions import db
from app.forecasting.attainment import attainment
from app.forecasting.known import standard_values
from app.forecasting.state import forecast_inputs
from app.models import Plan


class CommandError(Exception):
    pass


def _fail(message):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _plan(code):
    plan = db.session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise CommandError(f"unknown plan {code!r}")
    return plan


def _echo(result):
    click.echo(json.dumps(result, ensure_ascii=False, default=str))


def run_forecast(code, at, samples=10000, seed=DEFAULT_SEED):
    plan = _plan(code)
    try:
        target = date.fromisoformat(at)
    except (TypeError, ValueError):
        raise CommandError(f"--at: expected a date YYYY-MM-DD, got {at!r}") from None
    if not plan.standard_code:
        raise CommandError(f"plan {code!r} has no standard")
    if samples < 1:
        raise CommandError("--samples must be at least 1")
    as_of = clock.today()
    values, _ = standard_values(plan, as_of)
    now = score(plan.standard_code, values)
    result = forecast(forecast_inputs(plan, as_of), target, as_of, samples=samples, seed=seed)
    return {
        "plan": plan.code,
        "at": target.isoformat(),
        "as_of": as_of.isoformat(),
        "current": {"total": now["total"], "stars": now["stars"]},
        **result,
    }


@click.command("forecast")
@click.option("--plan", "code", required=True, help="plan code, e.g. weihai-1313")
@click.option("--at", "at", required=True, help="target date YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="print JSON (the only output format)")
@click.option("--samples", type=int, default=10000, show_default=True)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@with_appcontext
def forecast_command(code, at, as_json, samples, seed):
    """Forecast the plan's star level at --at from the data known on the clock date."""
    try:
        result = run_forecast(code, at, samples, seed)
    except (CommandError, ValueError) as exc:
        _fail(exc)
    _echo(result)


@click.command("attainment")
@click.option("--plan", "code", required=True, help="plan code, e.g. zhangqiu-3n")
@click.option("--json", "as_json", is_flag=True, help="print JSON (the only output format)")
@with_appcontext
def attainment_command(code, as_json):
    """Four-/five-star target attainment of the plan's indicators on the clock date."""
    try:
        result = attainment(_plan(code), clock.today())
    except (CommandError, ValueError) as exc:
        _fail(exc)
    _echo(result)
