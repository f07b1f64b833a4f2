"""Commands answer bad input with one line and exit status 2, never a traceback.

    @click.command("score")
    @one_line_errors(ScoringError)
    def score_command(...): ...

A known error (the classes given, and the input-reading ones every command meets:
OSError, UnicodeDecodeError, ValueError from JSON, RecursionError) becomes
`error: <message>` on stderr; nothing is printed on stdout.
"""

import functools
import json

import click

from app.engines import limits

EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A one-line refusal: `error: …` on stderr, exit status 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message):
        super().__init__(" ".join(str(message).split()) or "bad input")

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def read_json(path, option: str):
    """The JSON value in a file, or BadInput naming the option and the problem: unreadable,
    not UTF-8, nested deeper than limits.JSON_MAX_DEPTH, or not JSON."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise BadInput(f"{option}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{option}: {path} is not UTF-8 text (byte {exc.start})") from None
    if limits.json_depth(text) > limits.JSON_MAX_DEPTH:
        raise BadInput(f"{option}: {path} is nested too deeply (more than {limits.JSON_MAX_DEPTH} levels)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{option}: {path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    except (RecursionError, ValueError) as exc:  # e.g. an integer of too many digits
        raise BadInput(f"{option}: {path} is not usable JSON ({exc})") from None


def one_line_errors(*known: type[BaseException]):
    """Turn the known errors of a command's callback into BadInput (place it under @click.command)."""
    caught = (*known, RecursionError, UnicodeDecodeError)

    def wrap(func):
        @functools.wraps(func)
        def run(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except click.ClickException:
                raise
            except RecursionError:
                raise BadInput("input nested too deeply") from None
            except caught as exc:
                raise BadInput(str(exc)) from None

        return run

    return wrap
