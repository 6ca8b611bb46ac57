"""Response examples of the analyst views, in the spec and in Swagger UI: real records of the
first briefing."""

from __future__ import annotations

from typing import Any

from schemas import vocabularies as vocab
from schemas.urls import EXAMPLE_ROOT

KH = {"id": "kataib-hezbollah", "name": "Kataib Hezbollah", "kind": "armed_group"}
_AL_MONITOR = {
    "id": "al-monitor-2020-04-07-us-iran-showdown-iraq",
    "title": "US, Iran-backed forces in Iraq may be edging toward showdown",
}
TIMELINE_EXAMPLE = [
    {
        "record_type": "statement",
        "id": "kataib-hezbollah-2020-04-02-leave-iraq",
        "date": "2020-04-02",
        "end_date": None,
        "date_precision": "day",
        "date_kind": "point",
        "title": "We will not kill you, if you leave Iraq.",
        "actors": [KH],
        "location": None,
        "url": EXAMPLE_ROOT + "/v1/statements/kataib-hezbollah-2020-04-02-leave-iraq",
    },
    {
        "record_type": "event",
        "id": "rocket-strike-near-halliburton-2020-04-06",
        "date": "2020-04-06",
        "end_date": None,
        "date_precision": "day",
        "date_kind": "point",
        "title": "Katyusha rockets strike near Halliburton facility in southern Iraq",
        "actors": [{"id": "halliburton", "name": "Halliburton", "kind": "company"}],
        "location": {
            "id": "halliburton-facility-southern-iraq",
            "name": "Halliburton facility in southern Iraq",
            "kind": "facility",
        },
        "url": EXAMPLE_ROOT + "/v1/events/rocket-strike-near-halliburton-2020-04-06",
    },
]
NETWORK_EXAMPLE = {
    "directed": True,
    "multigraph": True,
    "graph": {"actor": "kataib-hezbollah", "depth": 1},
    "actor": KH,
    "depth": 1,
    "nodes": [
        {**KH, "depth": 0},
        {
            "id": "abu-fadak-al-mohammadawi",
            "name": "Abu Fadak al-Mohammadawi",
            "kind": "person",
            "depth": 1,
        },
        {"id": "mohammad-mohyee", "name": "Mohammad Mohyee", "kind": "person", "depth": 1},
    ],
    "edges": [
        {
            "kind": "relation",
            "source": "mohammad-mohyee",
            "target": "kataib-hezbollah",
            "predicate": "spokesperson_for",
            "citations": [
                {
                    "source": _AL_MONITOR,
                    "excerpt": "Kataib Hezbollah spokesman Mohammad Mohyee warned against four "
                    "possible moves by the United States.",
                    "public_record": None,
                }
            ],
            "events": [],
            "statements": [],
        },
        {
            "kind": "co_participation",
            "source": "kataib-hezbollah",
            "target": "abu-fadak-al-mohammadawi",
            "predicate": None,
            "citations": [],
            "events": ["kataib-hezbollah-push-for-abu-fadak-2020-03"],
            "statements": [],
        },
    ],
    "truncated": False,
}
SEARCH_EXAMPLE = [
    {
        "record_type": "actor",
        "id": "esmail-ghaani",
        "title": "Esmail Ghaani",
        "snippet": "Esmail Ghaani",
        "score": 5.2,
        "url": EXAMPLE_ROOT + "/v1/actors/esmail-ghaani",
    },
    {
        "record_type": "event",
        "id": "ghaani-first-visit-to-iraq-2020-03",
        "title": "Esmail Ghaani's first visit to Iraq as Quds Force head; talks with Iraqi "
        "factions",
        "snippet": "Ghaani's first visit to Iraq since he succeeded Soleimani. In Baghdad he "
        "held talks with various Iraqi factions. The article sees this as an effort to restore…",
        "score": 4.9,
        "url": EXAMPLE_ROOT + "/v1/events/ghaani-first-visit-to-iraq-2020-03",
    },
]
EVENT_FACETS_EXAMPLE = [
    {"value": "iraq", "label": "Iraq", "count": 12},
    {"value": "anbar-province", "label": "Anbar province", "count": 4},
    {"value": "ain-al-asad-air-base", "label": "Ain al-Asad air base", "count": 3},
]
STATEMENT_FACETS_EXAMPLE = [
    {"value": "adel-abdul-mahdi", "label": "Adel Abdul Mahdi", "count": 3},
    {"value": "donald-trump", "label": "Donald Trump", "count": 2},
]
VOCABULARIES_EXAMPLE: dict[str, list[dict[str, Any]]] = {
    name: [
        {"code": code, "meaning": meaning}
        | ({"type": vocab.EVENT_SUB_TYPES[code][0]} if name == "event_sub_types" else {})
        for code, meaning in list(codes.items())[:2]
    ]
    for name, codes in vocab.all_vocabularies().items()
}
VOCABULARIES_EXAMPLE["identifier_schemes"] = [
    {
        "code": code,
        "meaning": scheme.meaning,
        "record_types": list(scheme.record_types),
        "pattern": scheme.pattern,
        "example": scheme.example,
        "url_template": scheme.url_template,
    }
    for code, scheme in list(vocab.IDENTIFIER_SCHEMES.items())[:2]
]


def _no_figure(count: int, given: int = 0) -> dict:
    known = 0 if given else None
    return {
        "stated": known,
        "low": known,
        "high": known,
        "with_figure": given,
        "no_figure": count - given,
    }


# GET /v1/events/aggregate?group_by=month,type&metrics=casualties&limit=3&source=<Al-Monitor>
# (the strike on Soleimani's convoy: "at least 2" killed, so no high bound)
_AT_LEAST_TWO = {"stated": 2, "low": 2, "high": None, "with_figure": 1, "no_figure": 1}
EVENT_AGGREGATE_EXAMPLE = {
    "group_by": ["month", "type"],
    "spread": "none",
    "overlapping": False,
    "total": {
        "count": 11,
        "killed": {"stated": 2, "low": 2, "high": None, "with_figure": 2, "no_figure": 9},
        "wounded": _no_figure(11, 1),
    },
    "groups": [
        {
            "key": {"month": "2020-01", "type": "explosions_remote_violence"},
            "count": 2,
            "killed": _AT_LEAST_TWO,
            "wounded": _no_figure(2),
        },
        {
            "key": {"month": None, "type": "strategic_developments"},
            "imprecise": {"month": "open_start"},
            "count": 3,
            "killed": _no_figure(3),
            "wounded": _no_figure(3),
        },
        {
            "key": {"month": None, "type": "strategic_developments"},
            "imprecise": {"month": "window"},
            "count": 2,
            "killed": _no_figure(2),
            "wounded": _no_figure(2),
        },
        {
            "key": {"month": None, "type": None},
            "count": 4,
            "killed": _no_figure(4, 1),
            "wounded": _no_figure(4, 1),
            "rest": 4,
        },
    ],
}
# GET /v1/statements/aggregate?group_by=month,speaker&speaker=kataib-hezbollah
STATEMENT_AGGREGATE_EXAMPLE = {
    "group_by": ["month", "speaker"],
    "spread": "none",
    "overlapping": True,
    "total": {"count": 3},
    "groups": [
        {
            "key": {"month": "2020-03", "speaker": "kataib-hezbollah"},
            "label": {"speaker": "Kataib Hezbollah"},
            "count": 1,
        },
        {
            "key": {"month": "2020-03", "speaker": "mohammad-mohyee"},
            "label": {"speaker": "Mohammad Mohyee"},
            "count": 1,
        },
        {
            "key": {"month": "2020-04", "speaker": "kataib-hezbollah"},
            "label": {"speaker": "Kataib Hezbollah"},
            "count": 2,
        },
    ],
}
