"""`flask score`: the command-line contract of spec/scoring.md."""

import json
import sys

import click

from app.engines.scoring import ScoringError, score
from app.engines.standards import available_codes


@click.command("score")
@click.option("--standard", required=True, help="standard code, e.g. sd-city-2019")
@click.option("--values", "values_file", required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print JSON (the only output format)")
def score_command(standard, values_file, as_json):
    """Score one values object, or a JSON list of them, against a standard."""
    try:
        if standard not in available_codes():
            raise ScoringError(f"unknown standard {standard!r}")
        with open(values_file, encoding="utf-8") as fh:
            data = json.load(fh)
        items = data if isinstance(data, list) else [data]
        # Score everything before printing anything: a bad item means no result at all.
        results = []
        for position, values in enumerate(items):
            try:
                results.append(score(standard, values))
            except ScoringError as exc:
                prefix = f"item {position}: " if isinstance(data, list) else ""
                raise ScoringError(f"{prefix}{exc}") from None
    except (ScoringError, OSError, json.JSONDecodeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(results if isinstance(data, list) else results[0], ensure_ascii=False))
