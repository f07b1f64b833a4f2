"""The fuzzed contract: schemathesis generates requests for every operation of the live
document (bounded examples each) and sends them with a real token of the plan office (it may
read and write everything of its region): no 5xx, and every response — errors included — is
declared, has the declared content type and matches its schema.

The reminder log, for administrators only, is fuzzed with an admin's token.

It runs on the embedded defaults (SQLite) in `make test`; with TEST_DATABASE_URL set it skips
itself (the contract is the document's, not the database's, and it is the slowest test)
unless API_CONTRACT_ALWAYS=1."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import bearer

if os.environ.get("TEST_DATABASE_URL") and not os.environ.get("API_CONTRACT_ALWAYS"):
    pytest.skip("the fuzzed contract runs on the embedded defaults", allow_module_level=True)

not_a_server_error = schemathesis.checks.not_a_server_error
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app, world):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def headers_for(app, world, token):
    old = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = 100_000  # the fuzzer is one client sending fast
    office, admin = bearer(token("office")), bearer(token("admin"))
    yield lambda case: admin if case.path == "/api/v1/reminders" else office
    app.config["API_RATE_LIMIT"] = old


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_contract(case, headers_for):
    case.call_and_validate(headers=headers_for(case), checks=CHECKS)
