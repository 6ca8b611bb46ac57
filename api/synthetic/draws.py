"""One event or one statement at a time, drawn from the world's RNG: pure, no database.

A draw returns a row in the column order of `generate.COLUMNS` (references as slugs) and the
slugs it links to; the order of its RNG calls is part of the corpus.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from api.synthetic.names import (
    CHANNEL_WEIGHTS,
    COUNTRIES,
    EVENT_PRECISIONS,
    EXTRA_SENTENCES,
    PARAPHRASES,
    QUOTES,
    ROOTS,
    STATEMENT_PRECISIONS,
    SUB_TYPE_TITLES,
    TYPE_WEIGHTS,
    VIOLENT,
)
from api.synthetic.world import LAST_DAY, World, count_of, pick
from schemas import vocabularies as vocab

Row = tuple[Any, ...]
SPEAKER_KINDS = (
    "person",
    "armed_group",
    "government_body",
    "military_unit",
    "state",
    "coalition",
    "organization",
)
SITE_KINDS = {
    "city": 3.0,
    "military_base": 2.0,
    "facility": 1.0,
    "district": 0.5,
    "region": 0.3,
    "province": 0.3,
}


class EventDraw:
    """Draws one event at a time: type, date, place, participants, toll, title and summary."""

    def __init__(self, world: World, actors: list[dict], places: list[dict]) -> None:
        self.world = world
        self.rng = world.rng
        self.names = {a["slug"]: a["name"] for a in actors}
        self.fighters = [a["slug"] for a in actors if a["kind"] not in ("media_outlet", "company")]
        # a few prominent actors take part in many events; cumulative weights: O(log n) per pick
        self.fighter_weights = list(
            accumulate(1.0 / (rank + 10) for rank in range(len(self.fighters)))
        )
        country_weight = {c[0]: c[2] for c in COUNTRIES}
        kind_count: dict[tuple[str, str], int] = {}
        for place in places:
            if place["kind"] in SITE_KINDS:
                key = (place["country"], place["kind"])
                kind_count[key] = kind_count.get(key, 0) + 1
        self.sites = [p for p in places if p["kind"] in SITE_KINDS]
        self.site_weights = list(
            accumulate(
                SITE_KINDS[p["kind"]]
                * country_weight[p["country"]]
                / kind_count[(p["country"], p["kind"])]
                for p in self.sites
            )
        )
        self.sub_types = {t: vocab.event_sub_types_of(t) for t in vocab.EVENT_TYPES}
        self.type_items = list(TYPE_WEIGHTS.items())

    def participants(self, k: int) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < k:
            candidate = self.rng.choices(self.fighters, cum_weights=self.fighter_weights)[0]
            if candidate not in chosen:
                chosen.append(candidate)
        return chosen

    def roles_and_toll(self, etype: str, k: int) -> tuple[list[str], int | None]:
        rng = self.rng
        if etype in VIOLENT:
            roles = ["perpetrator", "target"] + [
                rng.choice(("victim", "target", "participant")) for _ in range(max(0, k - 2))
            ]
            r = rng.random()
            fatalities = (
                None if r < 0.3 else 0 if r < 0.55 else min(200, int(rng.expovariate(0.25)) + 1)
            )
        else:
            roles = ["participant", rng.choice(("recipient", "participant", "target"))] + [
                "participant"
            ] * max(0, k - 2)
            fatalities = None if rng.random() < 0.4 else 0
        return roles, fatalities

    def event(self, slug: str) -> tuple[Row, list[tuple[str, str]]]:
        """The event row and its (actor slug, role) participants."""
        rng = self.rng
        etype = pick(rng, self.type_items)
        sub_type = rng.choice(self.sub_types[etype])
        date, end, precision, start, stop = self.world.dated(
            self.world.random_day(), EVENT_PRECISIONS
        )
        site = (
            rng.choices(self.sites, cum_weights=self.site_weights)[0]
            if rng.random() < 0.97
            else None
        )
        k = count_of(rng, (0.35, 0.35, 0.2, 0.1), start=1)
        chosen = self.participants(k)
        roles, fatalities = self.roles_and_toll(etype, k)
        a = self.names[chosen[0]]
        b = self.names[chosen[1]] if k > 1 else "security forces"
        place_name = site["name"] if site else "an undisclosed location"
        title = SUB_TYPE_TITLES[sub_type].format(a=a, b=b, place=place_name)
        if fatalities is None:
            toll = "Casualty figures were not reported."
        elif fatalities == 0:
            toll = "No casualties were reported."
        else:
            toll = f"{fatalities} people were killed."
        where = f"{site['name']}, {site['parent']['name']}" if site else "an undisclosed location"
        summary = (
            f"{a} was involved in an incident of type "
            f"{sub_type.replace('_', ' ')} in {where}. {toll} "
            f"{rng.choice(EXTRA_SENTENCES)}"
        )
        place = site["slug"] if site else None
        dates = (date, end, precision, start, stop)
        row = (slug, title, summary, etype, sub_type, *dates, place, fatalities)
        return row, list(zip(chosen, roles[:k], strict=True))


class StatementDraw:
    """Draws one statement at a time: speakers, channel, linked events, date, text."""

    def __init__(
        self, world: World, actors: list[dict], titles: Sequence[str], dates: Sequence[dt.date]
    ) -> None:
        self.world = world
        self.rng = world.rng
        self.names = {a["slug"]: a["name"] for a in actors}
        self.titles, self.dates = titles, dates
        self.pool = [a["slug"] for a in actors if a["kind"] in SPEAKER_KINDS]
        self.weights = list(accumulate(1.0 / (rank + 5) for rank in range(len(self.pool))))
        self.fighters = [a["slug"] for a in actors if a["kind"] not in ("media_outlet", "company")]
        self.fighter_weights = list(
            accumulate(1.0 / (rank + 10) for rank in range(len(self.fighters)))
        )
        by_kind: dict[str, list[str]] = {}
        for actor in actors:
            by_kind.setdefault(actor["kind"], []).append(actor["slug"])
        self.outlets = by_kind.get("media_outlet") or [actors[0]["slug"]]
        self.channel_items = list(CHANNEL_WEIGHTS.items())

    def speaker(self) -> str:
        return self.rng.choices(self.pool, cum_weights=self.weights)[0]

    def speakers(self, k: int) -> list[str]:
        speakers: list[str] = []
        while len(speakers) < k:
            candidate = self.speaker()
            if candidate not in speakers:
                speakers.append(candidate)
        return speakers

    def linked_and_day(self) -> tuple[list[int], dt.date]:
        """Indexes of the events the statement is about (0-2) and the day it was made."""
        rng = self.rng
        linked: list[int] = []
        if rng.random() < 0.6:
            first = rng.randrange(len(self.titles))
            linked.append(first)
            if rng.random() < 0.25:
                second = rng.randrange(len(self.titles))
                if second != first:
                    linked.append(second)
            return linked, min(LAST_DAY, self.dates[first] + dt.timedelta(days=rng.randint(0, 14)))
        return linked, self.world.random_day()

    def addressees_and_mentions(self, speakers: list[str]) -> tuple[list[str], list[str]]:
        rng = self.rng
        addressees: list[str] = []
        for _ in range(count_of(rng, (0.4, 0.45, 0.15))):
            candidate = self.speaker()
            if candidate not in speakers and candidate not in addressees:
                addressees.append(candidate)
        mentions: list[str] = []
        for _ in range(count_of(rng, (0.6, 0.3, 0.1))):
            candidate = rng.choices(self.fighters, cum_weights=self.fighter_weights)[0]
            if candidate not in speakers and candidate not in addressees + mentions:
                mentions.append(candidate)
        return addressees, mentions

    def text(self, verbatim: bool, speaker_names: str, linked: list[int]) -> str:
        rng = self.rng
        if verbatim:
            text = rng.choice(QUOTES)
            if linked:
                text += (
                    f" What happened in {self.titles[linked[0]].split(' in ')[-1]} "
                    "will not go unanswered."
                )
            return text
        title = self.titles[linked[0]] if linked else ""
        about = f" after the {title[0].lower()}{title[1:]}" if linked else ""
        return f"{speaker_names} {rng.choice(PARAPHRASES)}{about}."

    def statement(self, slug: str) -> tuple[Row, list[str], list[str], list[str], list[int]]:
        """The statement row, its speakers, addressees, mentions and linked event indexes."""
        rng = self.rng
        k = count_of(rng, (0.8, 0.15, 0.05), start=1)
        speakers = self.speakers(k)
        channel = (
            "joint_statement" if k > 1 and rng.random() < 0.7 else pick(rng, self.channel_items)
        )
        linked, day = self.linked_and_day()
        date, end, precision, start, stop = self.world.dated(day, STATEMENT_PRECISIONS)
        addressees, mentions = self.addressees_and_mentions(speakers)
        # an unnamed source: `speakers` names the body it is affiliated with
        anonymous = k == 1 and rng.random() < 0.06
        attribution = None
        if anonymous:
            channel = rng.choice(("news_report", "interview"))
            attribution = (
                f"a source affiliated with {self.names[speakers[0]]}, "
                "speaking on condition of anonymity"
            )
        verbatim = not anonymous and rng.random() < 0.5
        speaker_names = " and ".join(self.names[s] for s in speakers)
        text = self.text(verbatim, speaker_names, linked)
        if anonymous:
            summary = f"Reported from {attribution}, not an official statement."
        elif rng.random() < 0.3:
            summary = f"{speaker_names} on the {rng.choice(ROOTS)} file."
        else:
            summary = None
        outlet = rng.choice(self.outlets) if channel in ("interview", "news_report") else None
        signatories = k if channel == "joint_statement" else None
        dates = (date, end, precision, start, stop)
        source = (channel, outlet, signatories)
        row = (slug, text, verbatim, summary, *source, *dates, anonymous, attribution)
        return row, speakers, addressees, mentions, linked
