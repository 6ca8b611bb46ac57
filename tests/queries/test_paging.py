"""The keyset cursors (api/queries/paging.py): as pure functions (no database, no app) a cursor
round-trips for every kind of sort key, and anything else, forged or tampered with, is an
InvalidParameter naming `cursor`; over HTTP every list refuses it with a 422 problem, and
decodes even a correctly signed cursor strictly."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from itsdangerous import URLSafeSerializer

from api.queries.errors import InvalidParameter
from api.queries.paging import CursorSigner, Sort, sorts_for
from api.store.models import Actor, Event
from tests.helpers import assert_problem, links, located

pytestmark = pytest.mark.response_cache  # the tests over HTTP (see below)

DATE = Sort("date", Event.date)
TITLE = Sort("title", Event.title)
FATALITIES = Sort("fatalities", Event.fatalities)
RANK = Sort("rank", Event.title, key_type="number")  # an expression's kind given explicitly
NEWEST = Sort("-date", Event.date, descending=True)
CURSORS = CursorSigner("a test key")


def forge(document: dict | str | bytes) -> str:
    """A cursor made by hand, the way a client could."""
    if isinstance(document, dict):
        document = json.dumps(document)
    if isinstance(document, str):
        document = document.encode()
    return base64.urlsafe_b64encode(document).decode().rstrip("=")


def test_sort_kind_is_read_off_the_column_unless_given() -> None:
    assert (DATE.kind, TITLE.kind, FATALITIES.kind) == ("date", "text", "number")
    assert Sort("name", Actor.name).kind == "text"
    assert RANK.kind == "number"
    assert Sort("when", Event.title, key_type="date").kind == "date"


@pytest.mark.parametrize(
    "sort, key",
    [
        (DATE, dt.date(2020, 4, 6)),
        (DATE, dt.date(1, 1, 1)),
        (NEWEST, dt.date(2024, 2, 29)),
        (TITLE, "Rockets strike near Ain al-Asad"),
        (TITLE, ""),
        (TITLE, "كتائب حزب الله — «quotes» \"and\" 'apostrophes' / ? & = +"),
        (FATALITIES, 0),
        (FATALITIES, 12),
        (FATALITIES, -3),
        (RANK, 0.0607927),
        (RANK, 1e-12),
    ],
)
@pytest.mark.parametrize("direction", ["next", "prev"])
def test_cursor_round_trip(sort: Sort, key, direction: str) -> None:
    cursor = CURSORS.encode(sort, key, 42, direction)
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert CURSORS.decode(cursor, sort) == (key, 42, direction)


def test_numeric_keys_come_back_as_numbers_of_equal_value() -> None:
    key, row_id, _ = CURSORS.decode(CURSORS.encode(FATALITIES, 7, 1, "next"), FATALITIES)
    assert key == 7 and isinstance(key, int | float) and not isinstance(key, bool)
    assert row_id == 1 and isinstance(row_id, int)


def test_cursor_is_opaque_but_encodes_its_sort() -> None:
    one = CURSORS.encode(DATE, dt.date(2020, 4, 6), 1, "next")
    assert "2020" not in one
    assert one != CURSORS.encode(NEWEST, dt.date(2020, 4, 6), 1, "next")
    assert one != CURSORS.encode(DATE, dt.date(2020, 4, 6), 1, "prev")
    assert one != CURSORS.encode(DATE, dt.date(2020, 4, 6), 2, "next")


VALID = {"s": "date", "k": "2020-04-06", "i": 3, "d": "next"}


@pytest.mark.parametrize(
    "cursor, sort",
    [
        pytest.param("not-a-cursor", DATE, id="not-base64-json"),
        pytest.param("!!!!", DATE, id="not-base64"),
        pytest.param("a", DATE, id="one-character"),
        pytest.param(forge(b"\xff\xfe\x00"), DATE, id="not-utf8"),
        pytest.param(forge("[1, 2, 3]"), DATE, id="json-list"),
        pytest.param(forge('"a string"'), DATE, id="json-string"),
        pytest.param(forge("null"), DATE, id="json-null"),
        pytest.param(forge({k: v for k, v in VALID.items() if k != "k"}), DATE, id="no-key"),
        pytest.param(forge({k: v for k, v in VALID.items() if k != "i"}), DATE, id="no-id"),
        pytest.param(forge({k: v for k, v in VALID.items() if k != "d"}), DATE, id="no-dir"),
        pytest.param(forge({k: v for k, v in VALID.items() if k != "s"}), DATE, id="no-sort"),
        pytest.param(forge(VALID), NEWEST, id="cursor-of-another-sort"),
        pytest.param(forge({**VALID, "d": "sideways"}), DATE, id="bad-direction"),
        pytest.param(forge({**VALID, "i": "three"}), DATE, id="id-not-a-number"),
        pytest.param(forge({**VALID, "i": None}), DATE, id="id-null"),
        pytest.param(forge({**VALID, "k": "2020-02-30"}), DATE, id="impossible-date"),
        pytest.param(forge({**VALID, "k": "yesterday"}), DATE, id="date-not-iso"),
        pytest.param(forge({**VALID, "k": 20200406}), DATE, id="date-a-number"),
        pytest.param(forge({**VALID, "s": "title", "k": 5}), TITLE, id="text-a-number"),
        pytest.param(forge({**VALID, "s": "title", "k": "a\x00b"}), TITLE, id="text-with-nul"),
        pytest.param(forge({**VALID, "s": "title", "k": None}), TITLE, id="text-null"),
        pytest.param(forge({**VALID, "s": "fatalities", "k": "5"}), FATALITIES, id="num-a-str"),
        pytest.param(forge({**VALID, "s": "fatalities", "k": True}), FATALITIES, id="num-bool"),
        pytest.param(forge({**VALID, "s": "fatalities", "k": None}), FATALITIES, id="num-null"),
        pytest.param(forge({**VALID, "s": "fatalities", "k": [1]}), FATALITIES, id="num-list"),
    ],
)
def test_forged_cursors_are_refused(cursor: str, sort: Sort) -> None:
    with pytest.raises(InvalidParameter) as refused:
        CURSORS.decode(cursor, sort)
    assert refused.value.parameter == "cursor"
    assert "cursor" in refused.value.detail.lower()


def decoded(cursor: str) -> list[bytes] | None:
    """The bytes of each base64 part of a cursor (payload, signature), None if not base64."""
    try:
        return [
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in cursor.split(".")
        ]
    except ValueError:
        return None


def tampered(cursor: str, replacements: str = "A_-z9") -> list[str]:
    """`cursor` with any one character replaced (payload, signature and the dot between), except
    a replacement of the unused low bits of a last base64 character: it reads the same bytes."""
    changed = [
        cursor[:position] + replacement + cursor[position + 1 :]
        for position in range(len(cursor))
        for replacement in replacements
        if cursor[position] != replacement
    ]
    return [forged_cursor for forged_cursor in changed if decoded(forged_cursor) != decoded(cursor)]


def test_a_tampered_cursor_is_refused() -> None:
    """Flipping any one character breaks the cursor: an InvalidParameter naming `cursor`, never
    another position and never another exception."""
    cursor = CURSORS.encode(DATE, dt.date(2020, 4, 6), 1234, "next")
    for forged_cursor in tampered(cursor):
        with pytest.raises(InvalidParameter) as refused:
            CURSORS.decode(forged_cursor, DATE)
        assert refused.value.parameter == "cursor", forged_cursor


def test_sorts_for_names_both_directions() -> None:
    sorts = sorts_for({"date": Event.date, "title": Event.title})
    assert set(sorts) == {"date", "-date", "title", "-title"}
    assert sorts["date"] == Sort("date", Event.date, descending=False)
    assert sorts["-date"] == Sort("-date", Event.date, descending=True)
    assert sorts["-title"].key is Event.title and sorts["-title"].kind == "text"
    assert sorts_for({}) == {}


# Over HTTP: every list decodes its cursor strictly, signed with the app's SECRET_KEY. The tests
# that ask through `client` run again with the response cache on, as in service.

LISTS = [
    "/v1/events",
    "/v1/statements",
    "/v1/actors",
    "/v1/relations",
    "/v1/locations",
    "/v1/sources",
    "/v1/timeline",
]
SORT_OF = {"/v1/sources": "-published", "/v1/actors": "name", "/v1/locations": "name"}
SORT_OF |= {"/v1/relations": "id"}


def unsigned(document) -> str:
    """A cursor as the service used to issue them: url-safe base64 of JSON, no signature."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed(document) -> str:
    """A cursor signed with the (public) development key the test apps use."""
    from api.config import DEV_SECRET_KEY
    from api.queries.paging import CURSOR_SALT

    return URLSafeSerializer(DEV_SECRET_KEY, salt=CURSOR_SALT).dumps(document)


def forged(name: str, sort: str) -> str:
    """The forged cursors that gave a 500 on every list (each fits the 2,000-character cap)."""
    if name == "nested":  # json.loads recursing past Python's limit: RecursionError
        return unsigned(b"[" * 1490)
    row_id = {"huge float": "1e400", "i = 2**63": str(2**63)}[name]  # OverflowError; SQLite
    key = {"-published": '"2020-04-07"', "name": '"a"', "id": '"a"'}.get(sort, '"2020-01-01"')
    return unsigned(f'{{"s":"{sort}","k":{key},"i":{row_id},"d":"next"}}'.encode())


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("name", ["nested", "huge float", "i = 2**63"])
def test_forged_cursor_is_422_on_every_list(client, path, name):
    cursor = forged(name, SORT_OF.get(path, "date"))
    assert len(cursor) <= 2000
    body = assert_problem(client.get(f"{path}?cursor={cursor}"), 422)
    assert "query.cursor" in located(body)


@pytest.mark.parametrize("path", LISTS)
def test_a_signed_cursor_is_still_decoded_strictly(client, path):
    sort = SORT_OF.get(path, "date")
    hostile = [
        {"s": sort, "k": "2020-01-01", "i": 2**63, "d": "next"},
        {"s": sort, "k": "2020-01-01", "i": -1, "d": "next"},
        {"s": sort, "k": "2020-01-01", "i": True, "d": "next"},
        {"s": sort, "k": "2020-01-01", "i": 1.5, "d": "next"},
        {"s": sort, "k": [[[]]], "i": 1, "d": "next"},
        {"s": sort, "k": "2020-01-01", "i": 1, "d": "next", "x": 1},
        [1, 2, 3],
        "text",
    ]
    key = {"-published": "2020-04-07", "name": "a", "id": "a"}.get(sort, "2020-01-01")
    genuine = {"s": sort, "k": key, "i": 1, "d": "next"}
    assert client.get(f"{path}?cursor={signed(genuine)}").status_code == 200  # same key
    for document in hostile:
        body = assert_problem(client.get(f"{path}?cursor={signed(document)}"), 422)
        assert "query.cursor" in located(body), document


@pytest.mark.parametrize("path", [p for p in LISTS if p != "/v1/sources"])  # one source
def test_issued_cursors_page_forward_and_back(client, path):
    first = client.get(f"{path}?limit=1")
    assert first.status_code == 200
    following = client.get(links(first)["next"])
    assert following.status_code == 200 and following.json != first.json
    back = client.get(links(following)["prev"])
    assert back.json == first.json


def test_a_cursor_signed_with_another_key_is_refused(make_app):
    issuer = make_app(SECRET_KEY="one key").test_client()
    cursor = links(issuer.get("/v1/events?limit=1"))["next"].split("cursor=")[1]
    assert issuer.get(f"/v1/events?limit=1&cursor={cursor}").status_code == 200
    other = make_app(SECRET_KEY="another key").test_client()
    assert_problem(other.get(f"/v1/events?limit=1&cursor={cursor}"), 422)


def test_a_tampered_cursor_is_a_422_problem_on_a_list(client):
    """A cursor of a Link header with any one character replaced is refused in the one error
    shape, naming `cursor` (the pure decoder above tries more replacements)."""
    cursor = links(client.get("/v1/events?limit=1"))["next"].split("cursor=")[1]
    assert client.get(f"/v1/events?limit=1&cursor={cursor}").status_code == 200
    for forged_cursor in tampered(cursor, "A"):
        response = client.get(f"/v1/events?limit=1&cursor={forged_cursor}")
        assert_problem(response, 422, "cursor")
