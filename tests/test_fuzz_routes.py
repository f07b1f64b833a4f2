"""Fuzz every route of the URL map with hostile input: no answer is ever a server error.

For each rule (whatever its converters: int, string, path) and each of its methods GET and
POST, signed in as a plan office user, a department user and an administrator on the
factory world, hypothesis draws hostile values for the path parameters (huge, negative and
non-ASCII numbers, NUL, bidi overrides, long strings), for the query parameters the views
read, and for the route's form fields (read from the rendered GET page) plus common names;
POSTs carry a valid CSRF token, as a form or as a JSON body. With TESTING on, an exception
in a view propagates, so a server error fails the test with its traceback; any 5xx answer
fails too. Deterministic (derandomize) and bounded (a few examples per route and user)."""

import inspect
import re
import string
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import csrf_from, login
from tests.factories import build_world

EXAMPLES = 8
USERS = ("office", "police", "admin")
SKIP = {("/logout", "POST")}  # would end the session the rest of the run signs in with

HOSTILE = [
    "",
    "0",
    "-1",
    "9" * 25,
    str(2**31),
    str(2**63),
    "2147483647",
    "²",
    "١٢",
    "１２",
    "1e20",
    "NaN",
    "-0",
    "1.5",
    " 1 ",
    "\x00",
    "a\x00b",
    "\u202e\u2066",
    "\x1b[31m",
    "x" * 5000,
    "𠀀🙂" * 50,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "null",
    "true",
    "[]",
    "{}",
    "2021-02-30",
    "9999-12-31",
    "0000-00-00",
    "red",
    "asc",
]
QUERY_NAMES = [
    "page",
    "plan",
    "department",
    "node",
    "colour",
    "sort",
    "dir",
    "year",
    "kind",
    "as_of",
    "by",
    "state",
    "mine",
    "q",
    "review",
    "view",
    "channel",
    "status",
    "slot_from",
    "slot_to",
    "next",
]
COMMON_FIELDS = ["id", "version", "token", "next", "text", "name", "percent", "department_id", "done", "late"]
INPUT_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet=string.digits + "-.e", min_size=1, max_size=30),
)


def _rules(app):
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in ("GET", "POST"):
            if method in rule.methods and (rule.rule, method) not in SKIP:
                out.append((rule, method))
    return out


def _path_values(rule, world):
    """A strategy of {argument: value} for the rule's path parameters (valid ones among the hostile)."""
    valid_ids = [str(v) for v in world.ids.values()]
    parts = {}
    for name, conv in rule._converters.items():
        kind = type(conv).__name__
        if kind == "IdConverter":
            parts[name] = st.one_of(st.sampled_from(valid_ids), st.sampled_from(HOSTILE), values)
        elif kind == "PathConverter":
            parts[name] = st.one_of(st.sampled_from(["style.css", "x.js", "../app.py"]), values)
        else:
            parts[name] = st.one_of(st.sampled_from(["plan-a", "plan-b", "1", "1.1"]), values)
    return st.fixed_dictionaries(parts)


def _url(rule, args: dict) -> str:
    """The rule with its arguments substituted as raw, percent-encoded text (no converter checks)."""
    from urllib.parse import quote

    url = rule.rule
    for name, value in args.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{re.escape(name)}>", quote(value, safe="") or "%20", url)
    return url


SWEEP = ["9" * 25, "²", "\x00", "-1", "\u202e" + "x" * 300]


def _names_read(app, rule) -> list[str]:
    """The query names the view's module mentions (a view may read more through helpers:
    the all-names request and hypothesis cover those)."""
    func = app.view_functions[rule.endpoint]
    source = inspect.getsource(sys.modules[func.__module__])
    return [n for n in QUERY_NAMES if f'"{n}"' in source]


def _sweep(app, client, world, rule, method, token, fields, username):
    """Each key hostile value in every query name at once, in each name the view reads alone,
    and in every form field, on a valid object."""
    valid = {
        n: "plan-a" if type(c).__name__ == "TextConverter" else str(world["m_police"])
        for n, c in rule._converters.items()
    }
    url = _url(rule, valid)
    for v in SWEEP:
        if method == "GET":
            queries = [dict.fromkeys(QUERY_NAMES, v)] + [{n: v} for n in _names_read(app, rule)]
            for query in queries:
                status = client.get(url, query_string=query).status_code
                assert status < 500, (username, url, query, status)
        else:
            status = client.post(url, data={**dict.fromkeys(fields, v), "csrf_token": token}).status_code
            assert status < 500, (username, url, v, fields, status)


def _form_names(client, url: str) -> list[str]:
    page = client.get(url)
    if page.status_code != 200 or "html" not in page.content_type:
        return []
    names = set(INPUT_NAME.findall(page.get_data(as_text=True))) - {"csrf_token"}
    return sorted(names)


def test_no_route_answers_a_server_error(app, client):
    with app.app_context():
        world = build_world()
    rules = _rules(app)
    assert len(rules) > 80  # the whole map, not a sample
    seen_kinds = {type(c).__name__ for rule, _ in rules for c in rule._converters.values()}
    assert {"IdConverter", "TextConverter", "PathConverter"} <= seen_kinds
    for username in USERS:
        login(client, username)
        token = csrf_from(client, "/notifications")
        for rule, method in rules:
            _fuzz_route(client, world, rule, method, token, username)


def _fuzz_route(client, world, rule, method, token, username):
    fields = COMMON_FIELDS
    if method == "POST" and "GET" in rule.methods and not rule._converters:
        fields = sorted({*COMMON_FIELDS, *_form_names(client, rule.rule)})
    elif method == "POST" and "GET" in rule.methods:
        valid = {
            n: "plan-a" if type(c).__name__ == "TextConverter" else str(world["m_police"])
            for n, c in rule._converters.items()
        }
        fields = sorted({*COMMON_FIELDS, *_form_names(client, _url(rule, valid))})
    if "static" not in rule.endpoint:
        _sweep(client.application, client, world, rule, method, token, fields, username)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        args=_path_values(rule, world),
        query=st.dictionaries(st.sampled_from(QUERY_NAMES), values, max_size=4),
        form=st.dictionaries(st.sampled_from(fields), values, max_size=6),
        as_json=st.booleans(),
    )
    def run(args, query, form, as_json):
        url = _url(rule, args)
        if method == "GET":
            response = client.get(url, query_string=query)
        elif as_json:
            response = client.post(url, query_string=query, json=form, headers={"X-CSRFToken": token})
        else:
            response = client.post(url, query_string=query, data={**form, "csrf_token": token})
        assert response.status_code < 500, (username, method, url, query, form, response.status_code)

    run()
