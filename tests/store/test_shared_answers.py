"""Answers shared by the workers (api/store/shared_answers.py): a worker that has not computed a
facet or an aggregate reads the one another computed at the same data version, and after a
write none is served again."""

import json

import pytest
from playhouse.test_utils import count_queries

from api.store import shared_answers
from api.store.data_version import PerVersion
from api.store.models import SharedAnswer

EVENT = "/v1/events/rocket-strike-near-halliburton-2020-04-06"
ASKED = [
    "/v1/events/facets?field=type",
    "/v1/events/facets?field=location&buckets=3",
    "/v1/events/aggregate?group_by=grid&cell=1&format=geojson",
    "/v1/events/aggregate?group_by=week,type&fill=zero&metrics=casualties",
]


@pytest.fixture
def client(curated, make_app):
    yield make_app(curated.url, SHARED_ANSWERS=True).test_client()
    shared_answers.enable(False)  # as the other apps of the session, under tests


def test_a_worker_reads_what_another_computed(client):
    first = {path: client.get(path).get_data() for path in ASKED}
    PerVersion.forget_all()  # another worker: nothing of its own yet
    for path in ASKED:
        with count_queries() as counted:
            again = client.get(path)
        assert again.status_code == 200 and again.get_data() == first[path], path
        assert counted.count == 2, path  # the data version and the shared answer, no count


def test_a_write_is_never_answered_from_an_older_version(client, curated):
    path = "/v1/events/facets?field=type"
    before = {b["value"]: b["count"] for b in client.get(path).json}
    etag = client.get(EVENT).headers["ETag"]
    headers = {**curated.auth(), "Content-Type": "application/merge-patch+json", "If-Match": etag}
    body = json.dumps({"type": "protests", "sub_type": "peaceful_protest"})
    assert client.patch(EVENT, data=body, headers=headers).status_code == 200
    PerVersion.forget_all()
    after = {b["value"]: b["count"] for b in client.get(path).json}
    assert after.get("protests", 0) == before.get("protests", 0) + 1
    assert SharedAnswer.select().count() == 1  # the older version's answers are gone
