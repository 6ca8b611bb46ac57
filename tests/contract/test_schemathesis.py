"""Property-based run of every operation in the served spec (schemathesis): no 5xx, responses
conform to the documented schemas, content types and headers."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    response_schema_conformance,
)


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


pytestmark = pytest.mark.slow

schema = schemathesis.pytest.from_fixture("api_schema")

# Examples per read operation (beyond the examples and coverage phases, which always run):
# enough for every `make test`; `FUZZ_EXAMPLES=500 make test` is the deeper run.
READ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))


# Writes need a key, so unauthenticated examples of them only ever meet the same 401; their
# validation has its own tests (test_import_*, test_curation) and the generated client calls
# each. A few examples keep the 401 shape in check; the budget goes to the public reads.
@schema.include(method="GET").parametrize()
@settings(max_examples=READ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_read_conforms(case):
    # Every other check runs. "Schema-valid request accepted" cannot hold by design: some
    # 422s come from rules OpenAPI 3.0 parameters cannot express (an id that names no
    # record, radius_km without near, date_from after date_to, a cursor not issued by us).
    # The WSGI transport asks for gzip but does not decode it (an HTTP client does):
    # ask for the body as is. Compression has its own tests (tests/http/test_http_cache.py).
    # `fields=` returns partial records by design (documented on the parameter): their
    # required fields are then absent, so only that check is left out for such requests.
    excluded = [positive_data_acceptance]
    if "fields" in (case.query or {}):
        excluded.append(response_schema_conformance)
    case.call_and_validate(headers={"Accept-Encoding": "identity"}, excluded_checks=excluded)


@schema.exclude(method="GET").parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_write_conforms(case):
    case.call_and_validate(
        headers={"Accept-Encoding": "identity"}, excluded_checks=[positive_data_acceptance]
    )
