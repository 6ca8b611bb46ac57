"""The seeded fake world: its size, places, actors and relations, and how it dates records.

Pure: no database. Everything is drawn from one `random.Random`, so the order of the calls is
part of the corpus (the same seed gives the same rows only if the calls keep their order).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.store.models import date_span
from api.synthetic.names import (
    ACTOR_KIND_WEIGHTS,
    BRANCHES,
    COUNTRIES,
    FAMILY_NAMES,
    FIRST_NAMES,
    GROUP_PREFIXES,
    MINISTRIES,
    PLACE_PREFIXES,
    ROOTS,
    TITLES,
    TRADES,
)

PREFIX = "syn-"
GENERATOR_VERSION = 4  # bump when the generated rows change, so old corpora get replaced
DEFAULT_SEED = 42
SOURCE_COUNT = 3
FIRST_DAY = dt.date(2012, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)


def pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    """One value of (value, weight) pairs."""
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def count_of(rng: random.Random, weights: Sequence[float], start: int = 0) -> int:
    """A count from `start` up, weighted by `weights`."""
    return rng.choices(range(start, start + len(weights)), weights)[0]


def normalize(day: dt.date, precision: str) -> dt.date:
    """The date a record of this precision stores (Monday, first of month, first of year)."""
    if precision == "week":
        return day - dt.timedelta(days=day.weekday())
    if precision == "month":
        return day.replace(day=1)
    if precision == "year":
        return day.replace(month=1, day=1)
    return day


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass
class CorpusPlan:
    """How many records of each collection a scale of `events` means."""

    events: int

    @property
    def statements(self) -> int:
        return 2 * self.events

    @property
    def actors(self) -> int:
        return max(40, self.events // 10)

    @property
    def locations(self) -> int:
        return max(60, self.events // 20)


def signature(events: int, random_seed: int, n: int = 1) -> str:
    """The url of synthetic source `n`: records what made the corpus, to skip reloading it."""
    return (
        f"synthetic://briefing-api?events={events}&seed={random_seed}"
        f"&version={GENERATOR_VERSION}&n={n}"
    )


class World:
    """The places, actors and relations of a synthetic corpus, drawn from one seeded RNG."""

    def __init__(self, events: int, random_seed: int = DEFAULT_SEED) -> None:
        self.plan = CorpusPlan(events)
        self.seed = random_seed
        self.rng = random.Random(random_seed)

    # -- sources ------------------------------------------------------------------------

    def source_rows(self) -> list[tuple]:
        """The synthetic sources, in the column order of `generate.COLUMNS["source"]`."""
        rows = []
        for n in range(1, SOURCE_COUNT + 1):
            rows.append(
                (
                    f"{PREFIX}source-{n}",
                    f"Synthetic briefing digest {n}",
                    "Synthetic Wire",
                    dt.date(2025, 1, n),
                    "day",
                    signature(self.plan.events, self.seed, n),
                    "Benchmark Generator",
                    "en",
                )
            )
        return rows

    # -- locations ----------------------------------------------------------------------

    def locations(self) -> list[list[dict]]:
        """Locations level by level (parents before children), as dicts."""
        rng = self.rng
        total = self.plan.locations
        countries: list[dict] = []
        provinces: list[dict] = []
        lower: list[dict] = []
        leaves: list[dict] = []
        n_provinces = max(2 * len(COUNTRIES), round(0.08 * total))
        weights = [c[2] for c in COUNTRIES]
        per_country = [2] * len(COUNTRIES)
        for _ in range(n_provinces - sum(per_country)):
            per_country[rng.choices(range(len(COUNTRIES)), weights)[0]] += 1
        for (iso, name, weight, centre, extent), n_prov in zip(COUNTRIES, per_country, strict=True):
            country = {
                "slug": f"{PREFIX}{iso.lower()}",
                "name": f"{name}",
                "kind": "country",
                "lat": centre[0],
                "lon": centre[1],
                "precision": "centroid",
                "country": iso,
                "parent": None,
                "extent": extent,
                "weight": weight,
                "description": f"The country of {name} (synthetic).",
            }
            countries.append(country)
            for p in range(1, n_prov + 1):
                provinces.append(
                    self.place(
                        country, f"{country['slug']}-p{p:03d}", "province", 0.8, "Governorate"
                    )
                )
        remaining = max(0, total - len(countries) - len(provinces))
        kinds = (
            ("city", 0.55),
            ("military_base", 0.15),
            ("district", 0.12),
            ("facility", 0.10),
            ("region", 0.08),
        )
        districts: list[dict] = []
        middle: list[dict] = []
        for counter in range(1, remaining + 1):
            kind = pick(rng, kinds)
            province = rng.choice(provinces)
            slug = f"{PREFIX}loc-{counter:06d}"
            if kind in ("district", "region"):
                place = self.place(
                    province, slug, kind, 0.5, "District" if kind == "district" else "Plain"
                )
                districts.append(place)
                middle.append(place)
            elif kind == "city":
                parent = rng.choice(districts) if districts and rng.random() < 0.3 else province
                place = self.place(parent, slug, "city", 0.3, "")
                (lower if parent is province else leaves).append(place)
            elif kind == "military_base":
                place = self.place(province, slug, kind, 0.4, "Air Base")
                lower.append(place)
            else:
                place = self.place(province, slug, kind, 0.4, "Oil Field")
                leaves.append(place)
        # parents before children: districts/regions, then what sits in a province, then
        # what sits in a district
        return [countries, provinces, middle, lower, leaves]

    def place(self, parent: dict, slug: str, kind: str, spread: float, suffix: str) -> dict:
        rng = self.rng
        country = parent if parent["kind"] == "country" else parent["country_record"]
        (c_lat, c_lon), (d_lat, d_lon) = (country["lat"], country["lon"]), country["extent"]
        lat = clamp(
            parent["lat"] + rng.uniform(-1, 1) * d_lat * spread, c_lat - d_lat, c_lat + d_lat
        )
        lon = clamp(
            parent["lon"] + rng.uniform(-1, 1) * d_lon * spread, c_lon - d_lon, c_lon + d_lon
        )
        if kind == "city":
            base = f"{rng.choice(PLACE_PREFIXES)} {rng.choice(ROOTS)}"
        elif kind == "province":
            base = f"Al-{rng.choice(ROOTS).rstrip('i')}iya"
        else:
            base = f"{rng.choice(PLACE_PREFIXES)} al-{rng.choice(ROOTS)}"
        name = f"{base} {suffix}".strip()
        precision = {
            "city": "centroid",
            "province": "centroid",
            "district": "centroid",
            "region": "centroid",
        }.get(kind, "exact" if rng.random() < 0.7 else "approximate")
        return {
            "slug": slug,
            "name": name,
            "kind": kind,
            "lat": round(lat, 5),
            "lon": round(lon, 5),
            "precision": precision,
            "country": country["country"],
            "parent": parent,
            "country_record": country,
            "description": f"A synthetic {kind.replace('_', ' ')} in {parent['name']}, "
            f"{country['name']}.",
        }

    # -- actors -------------------------------------------------------------------------

    def actors(self) -> list[dict]:
        """One state per country, then actors of weighted kinds, as dicts."""
        rng = self.rng
        actors: list[dict] = []
        for iso, name, *_ in COUNTRIES:
            actors.append(
                {
                    "slug": f"{PREFIX}state-{iso.lower()}",
                    "name": name,
                    "kind": "state",
                    "country": iso,
                    "title": None,
                    "description": f"The state of {name} (synthetic).",
                }
            )
        kinds = list(ACTOR_KIND_WEIGHTS.items())
        country_weights = [c[2] for c in COUNTRIES]
        for n in range(1, self.plan.actors - len(COUNTRIES) + 1):
            kind = pick(rng, kinds)
            iso, country_name = rng.choices(COUNTRIES, country_weights)[0][:2]
            name, title, description = self.identity(kind, country_name)
            aliases: list[str] = []
            if kind in ("person", "armed_group") and rng.random() < 0.3:
                variants = {
                    name.replace("al-", "el-"),
                    name.replace("Q", "K").replace("q", "k"),
                    name.replace("Kataib", "Kata'ib"),
                } - {name}
                aliases = sorted(variants)[: rng.randint(1, 2)]
            actors.append(
                {
                    "slug": f"{PREFIX}actor-{n:06d}",
                    "name": name,
                    "kind": kind,
                    "country": iso,
                    "title": title,
                    "description": description,
                    "aliases": aliases,
                }
            )
        return actors

    def identity(self, kind: str, country_name: str) -> tuple[str, str | None, str]:
        """The name, title (people only) and description of an actor of `kind`."""
        rng = self.rng
        title = None
        if kind == "person":
            name = (
                f"{rng.choice(FIRST_NAMES)} {rng.choice(FIRST_NAMES)} al-{rng.choice(FAMILY_NAMES)}"
            )
            title = rng.choice(TITLES)
            description = f"A {title} from {country_name} (synthetic)."
        elif kind == "armed_group":
            name = f"{rng.choice(GROUP_PREFIXES)} al-{rng.choice(ROOTS)}"
            if rng.random() < 0.5:
                name += f" Brigade {rng.randint(1, 99)}"
            description = f"An armed group active in {country_name} (synthetic)."
        elif kind == "military_unit":
            branch = rng.choice(BRANCHES)
            name = f"{rng.randint(4, 40)}th {branch} Division of {country_name}"
            description = f"A unit of the armed forces of {country_name} (synthetic)."
        elif kind == "government_body":
            name = f"Ministry of {rng.choice(MINISTRIES)} of {country_name}"
            description = f"A government body of {country_name} (synthetic)."
        elif kind == "media_outlet":
            name = f"Al-{rng.choice(ROOTS)} {rng.choice(('News', 'TV', 'Daily', 'Radio'))}"
            description = f"A media outlet based in {country_name} (synthetic)."
        elif kind == "company":
            name = f"{rng.choice(ROOTS)} {rng.choice(TRADES)} Services"
            description = f"A company operating in {country_name} (synthetic)."
        elif kind == "coalition":
            name = f"{rng.choice(ROOTS)} Alliance"
            description = "A coalition of armed and political groups (synthetic)."
        else:
            name = f"{rng.choice(ROOTS)} {rng.choice(('Foundation', 'Council', 'Party'))}"
            description = f"An organization in {country_name} (synthetic)."
        return name, title, description

    def relations(self, actors: list[dict]) -> list[tuple[str, str, str]]:
        """(subject slug, predicate, object slug), unique."""
        rng = self.rng
        by_kind: dict[str, list[dict]] = {}
        for actor in actors:
            by_kind.setdefault(actor["kind"], []).append(actor)
        states = {a["country"]: a for a in by_kind["state"]}
        groups = by_kind.get("armed_group", []) + by_kind.get("coalition", [])
        relations: dict[tuple[str, str, str], None] = {}
        for actor in actors:
            kind = actor["kind"]
            if kind == "person":
                relations[(actor["slug"], "citizen_of", states[actor["country"]]["slug"])] = None
                if groups and rng.random() < 0.6:
                    predicate = rng.choice(("leads", "member_of", "spokesperson_for", "commands"))
                    relations[(actor["slug"], predicate, rng.choice(groups)["slug"])] = None
            elif kind == "armed_group" and rng.random() < 0.7:
                relations[(actor["slug"], "backed_by", rng.choice(by_kind["state"])["slug"])] = None
                if len(groups) > 1 and rng.random() < 0.4:
                    other = rng.choice(groups)
                    if other is not actor:
                        predicate = rng.choice(("allied_with", "opposes"))
                        relations[(actor["slug"], predicate, other["slug"])] = None
            elif kind in ("military_unit", "government_body"):
                relations[(actor["slug"], "part_of", states[actor["country"]]["slug"])] = None
        return list(relations)

    # -- events and statements ----------------------------------------------------------

    def random_day(self) -> dt.date:
        return FIRST_DAY + dt.timedelta(days=self.rng.randrange((LAST_DAY - FIRST_DAY).days + 1))

    def dated(self, day: dt.date, precisions: Sequence[tuple[str, float]]) -> tuple:
        precision = pick(self.rng, precisions)
        date = normalize(day, precision)
        end = None
        if precision in ("day", "week") and self.rng.random() < 0.06:
            end = date + dt.timedelta(days=self.rng.randint(1, 30))
        start, stop = date_span(date, end, precision)
        return date, end, precision, start, stop
