"""`flask forecast` (shared/spec/forecast.md) and `flask attainment`.

    flask forecast --state FILE --json                  # one state, or a JSON list of them
    flask forecast --plan CODE [--at DATE] --json        # the plan's state known on the clock date
    flask forecast --plan CODE [--at DATE] --dump-state  # that state

--at is the target date (default: the plan's); the data are those known on the
clock date (app.clock.today(), STARPATH_AS_OF), or on --as-of. A bad state exits
with status 2 and one line on stderr naming the item and field; nothing on stdout.
"""

import json
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import clock
from app.cli_errors import BadInput, one_line_errors, read_json
from app.engines.forecast import forecast
from app.engines.forecast_state import DEFAULT_SAMPLES, DEFAULT_SEED, StateError
from app.extensions import db
from app.forecasting.attainment import attainment
from app.forecasting.state import build_state
from app.models import Plan

CommandError = BadInput  # a command's refusal: `error: …` on stderr, exit status 2


def _plan(code):
    plan = db.session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise CommandError(f"unknown plan {code!r}")
    return plan


def _echo(result):
    click.echo(json.dumps(result, ensure_ascii=False))


def _day(raw, option):
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise CommandError(f"{option}: expected a date YYYY-MM-DD, got {raw!r}") from None


def read_states(path):
    """(states, is_list) from a JSON file; BadInput (a CommandError) on unusable JSON."""
    data = read_json(path, "--state")
    return (data, True) if isinstance(data, list) else ([data], False)


def forecast_states(states, is_list, samples=None, seed=None):
    """Every result, or StateError naming the item: nothing is printed unless all succeed."""
    results = []
    for i, state in enumerate(states):
        try:
            results.append(forecast(state, samples=samples, seed=seed))
        except StateError as exc:
            raise StateError(f"item {i}: {exc}" if is_list else str(exc)) from None
    return results if is_list else results[0]


def plan_state(code, at=None, as_of=None, samples=None, seed=None):
    plan = _plan(code)
    if not plan.standard_code:
        raise CommandError(f"plan {code!r} has no standard")
    target = _day(at, "--at") if at else None
    day = _day(as_of, "--as-of") if as_of else clock.today()
    state, _ = build_state(
        plan, day, target, samples=samples or DEFAULT_SAMPLES, seed=DEFAULT_SEED if seed is None else seed
    )
    return state


@click.command("forecast")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), help="a state (or list) as JSON")
@click.option("--plan", "code", help="plan code, e.g. weihai-1313")
@click.option("--at", "at", help="target date YYYY-MM-DD (default: the plan's)")
@click.option("--as-of", "as_of", help="data known on this date (default: the clock date)")
@click.option("--json", "as_json", is_flag=True, help="print JSON (the only output format)")
@click.option("--dump-state", is_flag=True, help="print the plan's state instead of its forecast")
@click.option("--samples", type=int, default=None, help=f"Monte Carlo samples (default {DEFAULT_SAMPLES})")
@click.option("--seed", type=int, default=None, help=f"random seed (default {DEFAULT_SEED})")
@with_appcontext
@one_line_errors(StateError, ValueError)
def forecast_command(state_file, code, at, as_of, as_json, dump_state, samples, seed):
    """P(star level by the target date), from a state file or from a plan's data."""
    if bool(state_file) == bool(code):
        raise CommandError("give exactly one of --state FILE or --plan CODE")
    if state_file:
        if dump_state:
            raise CommandError("--dump-state goes with --plan")
        states, is_list = read_states(state_file)
        result = forecast_states(states, is_list, samples, seed)
    else:
        state = plan_state(code, at, as_of, samples, seed)
        result = state if dump_state else forecast(state)
    _echo(result)


@click.command("attainment")
@click.option("--plan", "code", required=True, help="plan code, e.g. zhangqiu-3n")
@click.option("--json", "as_json", is_flag=True, help="print JSON (the only output format)")
@with_appcontext
@one_line_errors(ValueError)
def attainment_command(code, as_json):
    """Four-/five-star target attainment of the plan's indicators on the clock date."""
    _echo(attainment(_plan(code), clock.today()))
