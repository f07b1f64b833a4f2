"""`flask score`: the command-line contract of spec/scoring.md.

A bad values file (unreadable, not UTF-8, too deep, not JSON, a value out of bounds)
exits with status 2 and one line on stderr naming the item; nothing on stdout."""

import json

import click

from app.cli_errors import BadInput, one_line_errors, read_json
from app.engines.scoring import ScoringError, score
from app.engines.standards import available_codes


@click.command("score")
@click.option("--standard", required=True, help="standard code, e.g. sd-city-2019")
@click.option("--values", "values_file", required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print JSON (the only output format)")
@one_line_errors(ScoringError)
def score_command(standard, values_file, as_json):
    """Score one values object, or a JSON list of them, against a standard."""
    if standard not in available_codes():
        raise BadInput(f"unknown standard {standard!r}")
    data = read_json(values_file, "--values")
    items = data if isinstance(data, list) else [data]
    # Score everything before printing anything: a bad item means no result at all.
    results = []
    for position, values in enumerate(items):
        try:
            results.append(score(standard, values))
        except ScoringError as exc:
            prefix = f"item {position}: " if isinstance(data, list) else ""
            raise BadInput(f"{prefix}{exc}") from None
    click.echo(json.dumps(results if isinstance(data, list) else results[0], ensure_ascii=False))
