"""`flask plans load|export|show|export-xlsx|import-xlsx`: plan files in and out of the database."""

import json

import click
import yaml
from flask.cli import AppGroup

from app.cli_errors import one_line_errors
from app.planio.excel import import_xlsx, plan_to_xlsx
from app.planio.export import export_plan, show_counts
from app.planio.loader import load_files

plans_cli = AppGroup("plans", help="Plan files (plans/*.yaml): load, export, show.")


def _report(report) -> None:
    if not report.ok:
        for error in report.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(report.errors)} error(s); nothing was loaded.", err=True)
        raise SystemExit(2)  # bad input, as `score` and `forecast` answer it
    for line in report.lines():
        click.echo(line)


@plans_cli.command("load")
@click.argument("files", nargs=-1, required=True)
@one_line_errors(OSError)
def load(files):
    """Validate FILE... and load them in one transaction (nothing if any is invalid)."""
    _report(load_files(list(files)))


def _plan_or_fail(func, code):
    try:
        return func(code)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc


def _dump(data, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), nl=False)


@plans_cli.command("export")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def export(code, as_json):
    """Print the whole plan CODE as it is in the database."""
    _dump(_plan_or_fail(export_plan, code), as_json)


@plans_cli.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def show(code, as_json):
    """Print the counts of plan CODE: nodes, projects, milestones, indicators …"""
    _dump(_plan_or_fail(show_counts, code), as_json)


@plans_cli.command("export-xlsx")
@click.argument("code")
@click.option(
    "--output", "-o", required=True, type=click.Path(dir_okay=False), help="The .xlsx file to write."
)
def export_xlsx(code, output):
    """Write plan CODE as an Excel workbook (plan, departments, tree, dependencies, indicators)."""
    data = _plan_or_fail(plan_to_xlsx, code)
    with open(output, "wb") as fh:
        fh.write(data)
    click.echo(f"{code}: wrote {output} ({len(data)} bytes)")


@plans_cli.command("import-xlsx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@one_line_errors(OSError)
def import_xlsx_command(file):
    """Validate an Excel workbook of a plan and load it (nothing if anything is wrong)."""
    _report(import_xlsx(file))
