"""Property tests of the `score` and `forecast --state` parsers: whatever the file holds
(random JSON, JSON shaped like a values object or a state with anything at any place,
deep nesting, bytes that are not UTF-8), the command either answers (exit 0) or exits 2
with one line on stderr and nothing on stdout; never a traceback."""

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engines.standards import load_standard

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NUMBERS = [ind["number"] for ind in load_standard("sd-city-2019")["indicators"]]
STATE = {
    "standard": "sd-city-2019",
    "as_of": "2021-03-15",
    "target_date": "2021-10-31",
    "target_stars": 4,
    "samples": 20,
    "seed": 1,
    "milestones": [
        {"id": "m1", "due": "2021-06-30", "delivers": [{"indicator": "1", "value": 80}]},
        {
            "id": "m2",
            "due": "2021-08-31",
            "start": "2021-04-01",
            "predecessors": [{"id": "m1", "lag_days": 10}],
        },
    ],
    "indicators": {
        "1": [{"date": "2021-01-01", "value": 50}],
        "6": [{"date": "2021-02-01", "value": {"level": 3}}],
    },
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["2021-03-15", "2021-02-30", "9999-12-31", "1", "level", "%"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
# A values object: known indicator numbers mapped to anything.
values_objects = st.dictionaries(st.sampled_from(NUMBERS), json_values, max_size=6)
numbers_and_levels = st.dictionaries(
    st.sampled_from(NUMBERS),
    st.floats(min_value=-1e25, max_value=1e25) | st.builds(lambda n: {"level": n}, st.integers(-2, 8)),
    max_size=6,
)


def _paths(obj, path=()):
    yield path
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _paths(value, (*path, i))


STATE_PATHS = [p for p in _paths(STATE) if p]


def _replace(obj, path, value):
    obj = json.loads(json.dumps(obj))
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"1":' * depth + "0" + "}" * depth
    return '{"milestones": [' + '{"a": [' * depth + "]}" * depth + "]}"


def _run(app, args, raw: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.json"
        path.write_bytes(raw)
        result = app.test_cli_runner().invoke(args=[*args, str(path), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    if result.exit_code == 2:
        assert result.stdout == ""
        line = result.stderr.rstrip("\n")
        assert line.startswith("error: ") and "\n" not in line, line
    else:
        json.loads(result.stdout)
    return result


SCORE = ["score", "--standard", "sd-city-2019", "--values"]
FORECAST = ["forecast", "--samples", "20", "--state"]


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


@SETTINGS
@given(payload=json_values | values_objects | numbers_and_levels | st.lists(values_objects, max_size=3))
def test_score_on_random_json(app, payload):
    _run(app, SCORE, _dumps(payload))


@SETTINGS
@given(path=st.sampled_from(STATE_PATHS), value=json_values)
def test_forecast_on_a_state_with_anything_anywhere(app, path, value):
    _run(app, FORECAST, _dumps(_replace(STATE, path, value)))


@SETTINGS
@given(payload=json_values)
def test_forecast_on_random_json(app, payload):
    _run(app, FORECAST, _dumps(payload))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=65, max_value=50_000), kind=st.sampled_from(["list", "object", "state"]))
def test_deep_nesting_exits_2(app, depth, kind):
    for args in (SCORE, FORECAST):
        result = _run(app, args, _deep(depth, kind).encode())
        assert result.exit_code == 2 and "nested too deeply" in result.stderr


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@SETTINGS
@given(raw=st.binary(min_size=1, max_size=64).filter(_not_utf8))
def test_bytes_that_are_not_utf8_exit_2(app, raw):
    for args in (SCORE, FORECAST):
        result = _run(app, args, raw)
        assert result.exit_code == 2 and "is not UTF-8 text" in result.stderr
