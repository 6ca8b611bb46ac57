"""Property-based run of every operation in the served spec (schemathesis): no 5xx, responses
conform to the documented schemas, content types and headers."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


pytestmark = pytest.mark.slow

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case):
    # Every other check runs. "Schema-valid request accepted" cannot hold by design: some
    # 422s come from rules OpenAPI 3.0 parameters cannot express (an id that names no
    # record, radius_km without near, date_from after date_to, a cursor not issued by us).
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
