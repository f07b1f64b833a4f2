"""Property tests of the plan loader: whatever a plan file holds (random YAML documents,
a real plan file cut anywhere, a wrong value at any place of plans/zhangqiu-3n.yaml),
it either loads or is refused with PlanErrors that name the file and the place; no
other exception, and nothing written when refused."""

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.planio.loader import load_files
from app.planio.reader import PlanError
from tests.planio.helpers import WEIHAI, ZHANGQIU, counts, read

QUICK = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}
SETTINGS = settings(max_examples=30, **QUICK)
ZHANGQIU_DATA = read(ZHANGQIU)
TEXTS = {path.name: path.read_text(encoding="utf-8") for path in (WEIHAI, ZHANGQIU)}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.sampled_from(["2021-02-30", "9999-12-31", "2021-06-30", "区大数据局", "zq-a", ">=", "%", ""])
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(sorted(ZHANGQIU_DATA)), inner, max_size=5)
    ),
    max_leaves=25,
)


def _paths(obj, path=()):
    if path:
        yield path
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _paths(value, (*path, i))


PATHS = list(_paths(ZHANGQIU_DATA))


def _replaced(path, value):
    data = yaml.safe_load(yaml.safe_dump(ZHANGQIU_DATA, allow_unicode=True))  # a deep copy
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _check(text: str, name: str = "plan.yaml"):
    """Load the text as a plan file: either it loads (rolled back), or PlanErrors name
    the file and the place and nothing is written."""
    before = counts()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        try:
            report = load_files([path], commit=False)
        finally:
            db.session.rollback()
    if not report.ok:
        assert report.errors
        for error in report.errors:
            assert isinstance(error, PlanError)
            assert error.file == str(path) and error.path and error.problem
            assert "\n" not in str(error).strip() or error.path.startswith("(")
    assert counts() == before
    return report


def _dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@SETTINGS
@given(document=documents)
def test_random_documents(ctx, document):
    _check(_dump(document))


@SETTINGS
@given(name=st.sampled_from(sorted(TEXTS)), fraction=st.floats(min_value=0, max_value=1))
def test_a_real_plan_file_cut_anywhere(ctx, name, fraction):
    text = TEXTS[name]
    _check(text[: int(len(text) * fraction)], name)


@SETTINGS
@given(path=st.sampled_from(PATHS), value=scalars | st.lists(scalars, max_size=2) | st.just({}))
def test_a_wrong_value_anywhere_in_a_real_plan(ctx, path, value):
    _check(_dump(_replaced(path, value)))


@settings(max_examples=5, **QUICK)
@given(depth=st.integers(min_value=100, max_value=3_000))
def test_deeply_nested_yaml(ctx, depth):
    report = _check("code: " + "[" * depth + "]" * depth)
    assert not report.ok


def test_aliases_that_expand_too_far_are_refused_at_once(ctx):
    """Nine anchors of nine aliases each: 9**9 values once expanded. Refused with a
    message, not walked for ever by the checks."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    report = _check("\n".join([*lines, "code: *a8"]) + "\n")
    assert not report.ok
    assert "aliases expand too far" in report.errors[0].problem
