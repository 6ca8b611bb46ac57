"""A deterministic synthetic briefing corpus at scale, for load and scale benchmarks.

`briefing seed --synthetic N` builds about N events, 2N statements, N/10 actors and N/20
locations (country -> province -> district/city/base/facility, with coordinates inside the
Middle East), plus relations, citations, three synthetic sources and a search document for every
record, so every filter of the API (location descendants, date ranges with precisions, bbox,
near, full text, actor/role, channel, ...) has realistic work to do.

Every public id starts with `syn-`, so synthetic records never collide with the real briefings
and can be removed again (`remove`). The same `N` and `random_seed` always give the same rows.
Rows are written with chunked `insert_many` inside one transaction; ids are read back per table
by slug. Date spans use `api.models.date_span` and location paths follow the loader's
`/parent-slug/child-slug/` scheme, so synthetic data is indistinguishable from loaded data.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import peewee as pw
from tqdm import tqdm

from api.db import database, is_postgres
from api.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventParticipant,
    Location,
    LocationAlias,
    Relation,
    SearchDocument,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementSpeaker,
    date_span,
    relation_slug,
)
from schemas import vocabularies as vocab

PREFIX = "syn-"
GENERATOR_VERSION = 3  # bump when the generated rows change, so old corpora get replaced
DEFAULT_SEED = 42
SOURCE_COUNT = 3
SQLITE_MAX_VARIABLES = 32_000  # SQLite >= 3.32 allows 32,766 bound parameters per statement
MAX_BATCH_ROWS = 1_000
FIRST_DAY = dt.date(2012, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)

# ---------------------------------------------------------------- vocabulary of the fake world

# ISO code, name, weight of events, centre (lat, lon), half-extent (dlat, dlon) of the country.
COUNTRIES: tuple[tuple[str, str, float, tuple[float, float], tuple[float, float]], ...] = (
    ("IQ", "Iraq", 0.30, (33.2, 43.7), (3.4, 4.4)),
    ("SY", "Syria", 0.22, (35.0, 38.5), (1.8, 2.8)),
    ("YE", "Yemen", 0.10, (15.5, 47.0), (1.8, 4.0)),
    ("IR", "Iran", 0.07, (32.5, 54.0), (5.0, 7.5)),
    ("LB", "Lebanon", 0.05, (33.9, 35.85), (0.45, 0.3)),
    ("IL", "Israel", 0.04, (31.4, 34.9), (1.1, 0.3)),
    ("SA", "Saudi Arabia", 0.04, (24.0, 45.0), (5.5, 7.5)),
    ("TR", "Turkey", 0.05, (38.8, 35.5), (1.8, 7.5)),
    ("JO", "Jordan", 0.03, (31.2, 36.6), (1.6, 1.3)),
    ("KW", "Kuwait", 0.02, (29.3, 47.6), (0.35, 0.45)),
    ("AE", "United Arab Emirates", 0.02, (24.0, 54.3), (0.9, 1.4)),
    ("QA", "Qatar", 0.02, (25.3, 51.2), (0.4, 0.15)),
    ("BH", "Bahrain", 0.02, (26.05, 50.55), (0.1, 0.05)),
    ("OM", "Oman", 0.02, (21.0, 57.0), (3.0, 2.5)),
)
PLACE_PREFIXES = (
    "Ain",
    "Tal",
    "Bir",
    "Jabal",
    "Wadi",
    "Qasr",
    "Ras",
    "Deir",
    "Kafr",
    "Umm",
    "Abu",
    "Khan",
    "Nahr",
    "Sahl",
    "Qalat",
    "Jisr",
    "Hisn",
    "Marj",
    "Suq",
    "Bab",
)
ROOTS = (
    "Hamra",
    "Zahra",
    "Kabir",
    "Nur",
    "Salam",
    "Rashid",
    "Jadid",
    "Qadim",
    "Abyad",
    "Aswad",
    "Hilal",
    "Fajr",
    "Karama",
    "Rahma",
    "Mansur",
    "Amin",
    "Zubayr",
    "Hadid",
    "Sharqi",
    "Gharbi",
    "Tamim",
    "Sadr",
    "Furat",
    "Dijla",
    "Qasim",
    "Najm",
    "Bakr",
    "Anwar",
    "Safa",
    "Marwa",
    "Hashim",
    "Saad",
    "Wafa",
    "Fath",
    "Nasr",
    "Haqq",
    "Imam",
    "Shuhada",
    "Tahrir",
    "Ahrar",
    "Badr",
    "Qods",
    "Zafar",
    "Ghadir",
    "Khalil",
    "Yasin",
)
FIRST_NAMES = (
    "Ahmad",
    "Ali",
    "Hassan",
    "Hussein",
    "Mohammed",
    "Omar",
    "Khalid",
    "Youssef",
    "Mahdi",
    "Abbas",
    "Karim",
    "Qasim",
    "Ibrahim",
    "Mustafa",
    "Hamid",
    "Jaafar",
    "Faleh",
    "Hadi",
    "Nouri",
    "Sami",
    "Reza",
    "Javad",
    "Mehdi",
    "Hossein",
    "Layla",
    "Fatima",
    "Zainab",
    "Maryam",
    "Noor",
    "Huda",
    "Salim",
    "Tariq",
    "Walid",
    "Adel",
)
FAMILY_NAMES = (
    "Rubaie",
    "Maliki",
    "Jaburi",
    "Dulaimi",
    "Amiri",
    "Khazali",
    "Kaabi",
    "Hakim",
    "Tamimi",
    "Shammari",
    "Obeidi",
    "Zubaidi",
    "Husseini",
    "Musawi",
    "Sadiq",
    "Jabiri",
    "Askari",
    "Bayati",
    "Saadi",
    "Azzawi",
    "Karbalai",
    "Najafi",
    "Hashemi",
    "Rahimi",
    "Tehrani",
    "Shirazi",
    "Halabi",
    "Homsi",
    "Khatib",
    "Haddad",
)
GROUP_PREFIXES = (
    "Kataib",
    "Saraya",
    "Liwa",
    "Harakat",
    "Asaib",
    "Jaish",
    "Quwat",
    "Firqat",
    "Ansar",
    "Alwiyat",
)
TITLES = (
    "commander",
    "spokesman",
    "secretary-general",
    "deputy commander",
    "minister",
    "political bureau chief",
    "security adviser",
    "member of parliament",
    "governor",
    "military spokesperson",
)
BRANCHES = ("Armored", "Infantry", "Air Defense", "Special Forces", "Border Guard")
MINISTRIES = ("Defense", "Interior", "Foreign Affairs", "Oil", "Finance", "Justice")
TRADES = ("Petroleum", "Logistics", "Construction", "Security")
EXTRA_SENTENCES = (
    "Security sources said the attack came after weeks of rising tension.",
    "Local officials described the situation as calm by the evening.",
    "The incident took place near a road used by supply convoys.",
    "Witnesses reported hearing several explosions before dawn.",
    "Residents said the area had been targeted repeatedly this year.",
    "The government announced an investigation into the incident.",
    "A curfew was imposed in the surrounding districts.",
    "Reinforcements were sent to the area after the incident.",
    "The group later claimed responsibility on its messaging channel.",
    "Hospital staff confirmed receiving wounded civilians.",
    "Drones were seen over the area for several hours.",
    "Oil exports through the nearby terminal were briefly halted.",
    "Checkpoints on the highway were closed until the afternoon.",
    "Analysts linked the escalation to negotiations over the withdrawal of foreign troops.",
    "Electricity and water supplies were interrupted in parts of the city.",
    "Tribal leaders called for restraint and a return to dialogue.",
)
QUOTES = (
    "We will respond to any aggression against our people and our sovereignty.",
    "The presence of foreign forces on our soil is unacceptable and must end.",
    "Our forces remain on high alert and ready to defend the country.",
    "We hold the occupiers fully responsible for the consequences of this escalation.",
    "There will be no negotiations while the attacks continue.",
    "We call on all parties to exercise restraint and protect civilians.",
    "The attack was a violation of international law and of our sovereignty.",
    "Those responsible will be brought to justice, whoever they are.",
    "Our patience has limits, and the response will be painful.",
    "We welcome the agreement as a step towards stability in the region.",
    "The withdrawal schedule has been agreed and will be implemented in stages.",
    "We reject any interference in the internal affairs of our country.",
)
PARAPHRASES = (
    "warned of retaliation if the strikes continued",
    "denied any involvement in the attack",
    "called for the withdrawal of foreign troops",
    "said the situation was under control",
    "accused the other side of violating the ceasefire",
    "announced the arrest of several suspects",
    "promised to rebuild the damaged facilities",
    "urged the government to protect the protesters",
    "confirmed the handover of the base to local forces",
    "described the strike as an act of self-defence",
)
SUB_TYPE_TITLES = {
    "armed_clash": "Clashes between {a} and {b} near {place}",
    "government_regains_territory": "{a} retakes villages near {place}",
    "non_state_actor_overtakes_territory": "{a} seizes positions near {place}",
    "chemical_weapon": "Suspected chemical attack near {place}",
    "air_drone_strike": "Drone strike hits {b} near {place}",
    "suicide_bomb": "Suicide bombing at a checkpoint in {place}",
    "shelling_artillery_missile_attack": "Rocket attack targets {b} in {place}",
    "remote_explosive_landmine_ied": "Roadside bomb hits {b} convoy near {place}",
    "grenade": "Grenade thrown at {b} in {place}",
    "sexual_violence": "Reported abuse of detainees in {place}",
    "attack": "Gunmen attack civilians in {place}",
    "abduction_forced_disappearance": "Activist abducted in {place}",
    "peaceful_protest": "Protesters rally in {place}",
    "protest_with_intervention": "Police disperse protest in {place}",
    "excessive_force_against_protesters": "Security forces fire on protesters in {place}",
    "violent_demonstration": "Demonstrators storm offices in {place}",
    "mob_violence": "Mob sets fire to shops in {place}",
    "agreement": "{a} and {b} reach agreement in {place}",
    "arrests": "{a} arrests suspects in {place}",
    "change_to_group_activity": "{a} redeploys fighters to {place}",
    "disrupted_weapons_use": "{a} defuses rockets aimed at {place}",
    "headquarters_or_base_established": "{a} sets up base near {place}",
    "looting_property_destruction": "Offices looted in {place}",
    "non_violent_transfer_of_territory": "{a} hands over base in {place} to {b}",
    "other": "{a} officials visit {place}",
}
TYPE_WEIGHTS = {
    "battles": 0.22,
    "explosions_remote_violence": 0.34,
    "violence_against_civilians": 0.12,
    "protests": 0.14,
    "riots": 0.05,
    "strategic_developments": 0.13,
}
VIOLENT = {"battles", "explosions_remote_violence", "violence_against_civilians", "riots"}
ACTOR_KIND_WEIGHTS = {  # `state` is one per country, outside these weights
    "person": 0.40,
    "armed_group": 0.18,
    "organization": 0.08,
    "government_body": 0.10,
    "military_unit": 0.12,
    "media_outlet": 0.05,
    "company": 0.04,
    "coalition": 0.03,
}
CHANNEL_WEIGHTS = {
    "statement": 0.30,
    "joint_statement": 0.03,
    "tweet": 0.15,
    "social_media_post": 0.12,
    "interview": 0.12,
    "press_conference": 0.10,
    "speech": 0.07,
    "announcement": 0.06,
    "news_report": 0.05,
}
EVENT_PRECISIONS = (("day", 0.75), ("week", 0.08), ("month", 0.12), ("year", 0.05))
STATEMENT_PRECISIONS = (("day", 0.85), ("week", 0.05), ("month", 0.08), ("year", 0.02))


# ---------------------------------------------------------------- helpers


def pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def count_of(rng: random.Random, weights: Sequence[float], start: int = 0) -> int:
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
class Plan:
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


# ---------------------------------------------------------------- the writer


class Writer:
    """Chunked insert_many with one progress bar over every row."""

    def __init__(self, total: int, progress: bool) -> None:
        self.bar = tqdm(
            total=total,
            unit="row",
            unit_scale=True,
            disable=not progress,
            desc="synthetic",
            dynamic_ncols=True,
        )
        self.postgres = is_postgres()

    def insert(self, model: type[pw.Model], fields: list[str], rows: list[tuple]) -> None:
        self.bar.set_description(model._meta.table_name)
        batch = (
            MAX_BATCH_ROWS
            if self.postgres
            else min(MAX_BATCH_ROWS, SQLITE_MAX_VARIABLES // len(fields))
        )
        columns = [model._meta.fields[name] for name in fields]
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            model.insert_many(chunk, fields=columns).execute()
            self.bar.update(len(chunk))

    def close(self) -> None:
        self.bar.close()


def synthetic(model: type[pw.Model]) -> pw.Expression:
    """Rows whose slug starts with `syn-`, as a range the slug's unique index can serve."""
    return (model.slug >= PREFIX) & (model.slug < PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1))


def slug_ids(model: type[pw.Model]) -> dict[str, int]:
    return dict(model.select(model.slug, model.id).where(synthetic(model)).tuples())


# ---------------------------------------------------------------- the generator


class Generator:
    """Builds the rows of a synthetic corpus, table by table, from one seeded RNG."""

    def __init__(self, events: int, random_seed: int = DEFAULT_SEED) -> None:
        self.plan = Plan(events)
        self.seed = random_seed
        self.rng = random.Random(random_seed)

    # -- sources ------------------------------------------------------------------------

    def source_rows(self) -> list[tuple]:
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
        countries, provinces, lower, leaves = [], [], [], []
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
        rng = self.rng
        actors = []
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
            title = None
            if kind == "person":
                name = (
                    f"{rng.choice(FIRST_NAMES)} {rng.choice(FIRST_NAMES)} "
                    f"al-{rng.choice(FAMILY_NAMES)}"
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
            aliases = []
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


# ---------------------------------------------------------------- public entry points


def build_and_insert(events: int, random_seed: int = DEFAULT_SEED, progress: bool = True) -> dict:
    """Generate and write the corpus (call inside a transaction); counts per table."""
    gen = Generator(events, random_seed)
    rng = gen.rng
    plan = gen.plan
    counts: dict[str, int] = {}

    # Estimated total rows for the progress bar (refined as tables are built).
    estimate = int(plan.events * 17 + plan.actors * 3 + plan.locations * 3)
    writer = Writer(estimate, progress)

    def write(model: type[pw.Model], fields: list[str], rows: list[tuple]) -> None:
        writer.insert(model, fields, rows)
        counts[model._meta.table_name] = counts.get(model._meta.table_name, 0) + len(rows)

    citations: list[tuple] = []
    documents: list[tuple] = []
    source_ids: list[int] = []

    def cite(record_type: str, record_id: int, excerpt: str, extra: bool = False) -> None:
        citations.append((record_type, record_id, rng.choice(source_ids), excerpt, 0))
        if extra:
            others = [s for s in source_ids if s != citations[-1][2]]
            if others:
                citations.append((record_type, record_id, rng.choice(others), excerpt, 1))

    def document(record_type: str, record_id: int, title: str, *body: Any) -> None:
        documents.append(
            (record_type, record_id, title, "\n".join(str(part) for part in body if part))
        )

    try:
        # sources
        source_fields = [
            "slug",
            "title",
            "publisher",
            "published",
            "published_precision",
            "url",
            "author",
            "language",
        ]
        write(Source, source_fields, gen.source_rows())
        ids = slug_ids(Source)
        source_ids[:] = [ids[row[0]] for row in gen.source_rows()]
        for row in gen.source_rows():
            document("source", ids[row[0]], row[1], row[2], row[6])

        # locations, level by level so that each parent has its id and path first
        location_fields = [
            "slug",
            "name",
            "kind",
            "parent",
            "path",
            "latitude",
            "longitude",
            "coordinate_precision",
            "country",
            "description",
        ]
        levels = gen.locations()
        location_ids: dict[str, int] = {}
        paths: dict[str, str] = {}
        for level in levels:
            rows = []
            for place in level:
                parent = place["parent"]
                path = f"{paths[parent['slug']] if parent else '/'}{place['slug']}/"
                paths[place["slug"]] = path
                rows.append(
                    (
                        place["slug"],
                        place["name"],
                        place["kind"],
                        location_ids[parent["slug"]] if parent else None,
                        path,
                        place["lat"],
                        place["lon"],
                        place["precision"],
                        place["country"],
                        place["description"],
                    )
                )
            write(Location, location_fields, rows)
            location_ids.update(slug_ids(Location))
        places = [p for level in levels for p in level]
        alias_rows = []
        for place in places:
            lid = location_ids[place["slug"]]
            aliases = []
            if place["kind"] in ("city", "province") and rng.random() < 0.2:
                aliases = [place["name"].replace("Al-", "Al ").replace("Ain ", "Ayn ")]
                aliases = [a for a in aliases if a != place["name"]]
                alias_rows.extend((lid, a, "en") for a in aliases)
            cite("location", lid, f"{place['name']}: {place['description']}")
            document("location", lid, place["name"], *aliases, place["description"])
        write(LocationAlias, ["location", "name", "language"], alias_rows)

        # actors, aliases, relations
        actors = gen.actors()
        write(
            Actor,
            ["slug", "name", "kind", "title", "description", "country"],
            [
                (a["slug"], a["name"], a["kind"], a["title"], a["description"], a["country"])
                for a in actors
            ],
        )
        actor_ids = slug_ids(Actor)
        alias_rows = []
        for actor in actors:
            aid = actor_ids[actor["slug"]]
            aliases = actor.get("aliases", [])
            alias_rows.extend((aid, alias, "en") for alias in aliases)
            cite(
                "actor",
                aid,
                f"{actor['name']}, {actor['description'][0].lower()}{actor['description'][1:]}",
            )
            document("actor", aid, actor["name"], *aliases, actor["title"], actor["description"])
        write(ActorAlias, ["actor", "name", "language"], alias_rows)
        relations = gen.relations(actors)
        write(
            Relation,
            ["slug", "subject", "predicate", "object", "date_precision"],
            [
                (relation_slug(s, p, o), actor_ids[s], p, actor_ids[o], "year")
                for s, p, o in relations
            ],
        )
        relation_ids = {
            (s, p, o): rid
            for rid, s, p, o in Relation.select(
                Relation.id, Relation.subject, Relation.predicate, Relation.object
            )
            .where(Relation.subject.in_(Actor.select(Actor.id).where(synthetic(Actor))))
            .tuples()
        }
        names = {a["slug"]: a["name"] for a in actors}
        for s, p, o in relations:
            cite(
                "relation",
                relation_ids[(actor_ids[s], p, actor_ids[o])],
                f"{names[s]} {p.replace('_', ' ')} {names[o]}.",
            )

        # events
        by_kind: dict[str, list[str]] = {}
        for actor in actors:
            by_kind.setdefault(actor["kind"], []).append(actor["slug"])
        fighters = [a["slug"] for a in actors if a["kind"] not in ("media_outlet", "company")]
        # a few prominent actors take part in many events; cumulative weights: O(log n) per pick
        fighter_weights = list(accumulate(1.0 / (rank + 10) for rank in range(len(fighters))))
        site_kinds = {
            "city": 3.0,
            "military_base": 2.0,
            "facility": 1.0,
            "district": 0.5,
            "region": 0.3,
            "province": 0.3,
        }
        country_weight = {c[0]: c[2] for c in COUNTRIES}
        kind_count: dict[tuple[str, str], int] = {}
        for place in places:
            if place["kind"] in site_kinds:
                key = (place["country"], place["kind"])
                kind_count[key] = kind_count.get(key, 0) + 1
        sites = [p for p in places if p["kind"] in site_kinds]
        site_weights = list(
            accumulate(
                site_kinds[p["kind"]]
                * country_weight[p["country"]]
                / kind_count[(p["country"], p["kind"])]
                for p in sites
            )
        )
        sub_types = {t: vocab.event_sub_types_of(t) for t in vocab.EVENT_TYPES}
        type_items = list(TYPE_WEIGHTS.items())
        event_rows, participant_rows, event_meta = [], [], []
        for n in range(1, plan.events + 1):
            etype = pick(rng, type_items)
            sub_type = rng.choice(sub_types[etype])
            date, end, precision, start, stop = gen.dated(gen.random_day(), EVENT_PRECISIONS)
            site = rng.choices(sites, cum_weights=site_weights)[0] if rng.random() < 0.97 else None
            k = count_of(rng, (0.35, 0.35, 0.2, 0.1), start=1)
            chosen: list[str] = []
            while len(chosen) < k:
                candidate = rng.choices(fighters, cum_weights=fighter_weights)[0]
                if candidate not in chosen:
                    chosen.append(candidate)
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
            place_name = site["name"] if site else "an undisclosed location"
            a = names[chosen[0]]
            b = names[chosen[1]] if k > 1 else "security forces"
            title = SUB_TYPE_TITLES[sub_type].format(a=a, b=b, place=place_name)
            if fatalities is None:
                toll = "Casualty figures were not reported."
            elif fatalities == 0:
                toll = "No casualties were reported."
            else:
                toll = f"{fatalities} people were killed."
            where = (
                f"{site['name']}, {site['parent']['name']}" if site else "an undisclosed location"
            )
            summary = (
                f"{a} was involved in an incident of type "
                f"{sub_type.replace('_', ' ')} in {where}. {toll} "
                f"{rng.choice(EXTRA_SENTENCES)}"
            )
            slug = f"{PREFIX}event-{n:07d}"
            event_rows.append(
                (
                    slug,
                    title,
                    summary,
                    etype,
                    sub_type,
                    date,
                    end,
                    precision,
                    start,
                    stop,
                    location_ids[site["slug"]] if site else None,
                    fatalities,
                )
            )
            participant_rows.append((slug, list(zip(chosen, roles[:k], strict=True))))
            event_meta.append((slug, date, title, summary))
        write(
            Event,
            [
                "slug",
                "title",
                "summary",
                "type",
                "sub_type",
                "date",
                "end_date",
                "date_precision",
                "range_start",
                "range_end",
                "location",
                "fatalities",
            ],
            event_rows,
        )
        event_ids = slug_ids(Event)
        write(
            EventParticipant,
            ["event", "actor", "role"],
            [
                (event_ids[slug], actor_ids[actor], role)
                for slug, links in participant_rows
                for actor, role in links
            ],
        )
        for slug, _date, title, summary in event_meta:
            eid = event_ids[slug]
            cite("event", eid, summary.split(". ")[0] + ".", extra=rng.random() < 0.1)
            document("event", eid, title, summary)
        del event_rows, participant_rows

        # statements
        speakers_pool = [
            a["slug"]
            for a in actors
            if a["kind"]
            in (
                "person",
                "armed_group",
                "government_body",
                "military_unit",
                "state",
                "coalition",
                "organization",
            )
        ]
        speaker_weights = list(accumulate(1.0 / (rank + 5) for rank in range(len(speakers_pool))))
        outlets = by_kind.get("media_outlet") or [actors[0]["slug"]]
        channel_items = list(CHANNEL_WEIGHTS.items())
        statement_rows, link_rows = [], []
        for n in range(1, plan.statements + 1):
            k = count_of(rng, (0.8, 0.15, 0.05), start=1)
            speakers: list[str] = []
            while len(speakers) < k:
                candidate = rng.choices(speakers_pool, cum_weights=speaker_weights)[0]
                if candidate not in speakers:
                    speakers.append(candidate)
            channel = (
                "joint_statement" if k > 1 and rng.random() < 0.7 else pick(rng, channel_items)
            )
            linked: list[int] = []
            if rng.random() < 0.6:
                first = rng.randrange(len(event_meta))
                linked.append(first)
                if rng.random() < 0.25:
                    second = rng.randrange(len(event_meta))
                    if second != first:
                        linked.append(second)
                day = min(LAST_DAY, event_meta[first][1] + dt.timedelta(days=rng.randint(0, 14)))
            else:
                day = gen.random_day()
            date, end, precision, start, stop = gen.dated(day, STATEMENT_PRECISIONS)
            addressees: list[str] = []
            for _ in range(count_of(rng, (0.4, 0.45, 0.15))):
                candidate = rng.choices(speakers_pool, cum_weights=speaker_weights)[0]
                if candidate not in speakers and candidate not in addressees:
                    addressees.append(candidate)
            mentions: list[str] = []
            for _ in range(count_of(rng, (0.6, 0.3, 0.1))):
                candidate = rng.choices(fighters, cum_weights=fighter_weights)[0]
                if candidate not in speakers and candidate not in addressees + mentions:
                    mentions.append(candidate)
            # an unnamed source: `speakers` names the body it is affiliated with
            anonymous = k == 1 and rng.random() < 0.06
            attribution = None
            if anonymous:
                channel = rng.choice(("news_report", "interview"))
                attribution = (
                    f"a source affiliated with {names[speakers[0]]}, "
                    "speaking on condition of anonymity"
                )
            verbatim = not anonymous and rng.random() < 0.5
            speaker_names = " and ".join(names[s] for s in speakers)
            if verbatim:
                text = rng.choice(QUOTES)
                if linked:
                    text += (
                        f" What happened in {event_meta[linked[0]][2].split(' in ')[-1]} "
                        "will not go unanswered."
                    )
            else:
                title = event_meta[linked[0]][2] if linked else ""
                about = f" after the {title[0].lower()}{title[1:]}" if linked else ""
                text = f"{speaker_names} {rng.choice(PARAPHRASES)}{about}."
            if anonymous:
                summary = f"Reported from {attribution}, not an official statement."
            elif rng.random() < 0.3:
                summary = f"{speaker_names} on the {rng.choice(ROOTS)} file."
            else:
                summary = None
            outlet = (
                actor_ids[rng.choice(outlets)] if channel in ("interview", "news_report") else None
            )
            slug = f"{PREFIX}statement-{n:07d}"
            statement_rows.append(
                (
                    slug,
                    text,
                    verbatim,
                    summary,
                    channel,
                    outlet,
                    k if channel == "joint_statement" else None,
                    date,
                    end,
                    precision,
                    start,
                    stop,
                    anonymous,
                    attribution,
                )
            )
            link_rows.append(
                (
                    slug,
                    speakers,
                    addressees,
                    mentions,
                    [event_meta[i][0] for i in linked],
                    text,
                    summary,
                    attribution,
                )
            )
        write(
            Statement,
            [
                "slug",
                "text",
                "verbatim",
                "summary",
                "channel",
                "outlet",
                "signatory_count",
                "date",
                "end_date",
                "date_precision",
                "range_start",
                "range_end",
                "anonymous",
                "attribution",
            ],
            statement_rows,
        )
        del statement_rows
        statement_ids = slug_ids(Statement)
        speaker_rows, addressee_rows, mention_rows, statement_event_rows = [], [], [], []
        for slug, speakers, addressees, mentions, linked, text, summary, attribution in link_rows:
            sid = statement_ids[slug]
            speaker_rows.extend((sid, actor_ids[a], pos) for pos, a in enumerate(speakers))
            addressee_rows.extend((sid, actor_ids[a]) for a in addressees)
            mention_rows.extend((sid, actor_ids[a]) for a in mentions)
            statement_event_rows.extend((sid, event_ids[e]) for e in linked)
            cite("statement", sid, text, extra=rng.random() < 0.1)
            document("statement", sid, text[:200], text, summary, attribution)
        del link_rows
        write(StatementSpeaker, ["statement", "actor", "position"], speaker_rows)
        write(StatementAddressee, ["statement", "actor"], addressee_rows)
        write(StatementMention, ["statement", "actor"], mention_rows)
        write(StatementEvent, ["statement", "event"], statement_event_rows)

        # citations and search documents (the FTS5 triggers / generated tsvector index them)
        writer.bar.total = writer.bar.n + len(citations) + len(documents)
        write(Citation, ["record_type", "record_id", "source", "excerpt", "position"], citations)
        write(SearchDocument, ["record_type", "record_id", "title", "body"], documents)
    finally:
        writer.close()
    return counts


def present() -> str | None:
    """The parameters of the synthetic corpus in the database (its first source's url)."""
    source = Source.get_or_none(Source.slug == f"{PREFIX}source-1")
    return source.url if source else None


def signature(events: int, random_seed: int, n: int = 1) -> str:
    """The url of synthetic source `n`: records what made the corpus, to skip reloading it."""
    return (
        f"synthetic://briefing-api?events={events}&seed={random_seed}"
        f"&version={GENERATOR_VERSION}&n={n}"
    )


def remove() -> int:
    """Delete every synthetic record (and its citations and search documents); rows deleted."""
    deleted = 0
    for model, record_type in (
        (Statement, "statement"),
        (Event, "event"),
        (Actor, "actor"),
        (Location, "location"),
        (Source, "source"),
    ):
        ids = model.select(model.id).where(synthetic(model))
        if record_type == "actor":
            relations = Relation.select(Relation.id).where(
                Relation.subject.in_(ids) | Relation.object.in_(ids)
            )
            deleted += (
                Citation.delete()
                .where((Citation.record_type == "relation") & Citation.record_id.in_(relations))
                .execute()
            )
        for child in (Citation, SearchDocument):
            deleted += (
                child.delete()
                .where((child.record_type == record_type) & child.record_id.in_(ids))
                .execute()
            )
        if model is Source:
            deleted += Citation.delete().where(Citation.source.in_(ids)).execute()
        deleted += model.delete().where(synthetic(model)).execute()
    return deleted


def optimize() -> None:
    """Refresh planner statistics after a bulk load (and compact SQLite's FTS index)."""
    if is_postgres():
        for table in (
            "event",
            "statement",
            "location",
            "actor",
            "event_participant",
            "statement_speaker",
            "statement_addressee",
            "statement_event",
            "citation",
            "search_document",
            "relation",
            "source",
        ):
            database.execute_sql(f"VACUUM ANALYZE {table}")
    else:
        database.execute_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        database.execute_sql("ANALYZE")
        database.execute_sql("PRAGMA optimize")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass
class Result:
    events: int
    random_seed: int
    skipped: bool
    seconds: float
    counts: dict[str, int]
    removed: int = 0

    def describe(self) -> str:
        if self.skipped:
            return (
                f"synthetic corpus (events={self.events}, seed={self.random_seed}) already "
                "present; nothing to do"
            )
        rows = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        removed = f"; removed {self.removed} old synthetic row(s)" if self.removed else ""
        return (
            f"synthetic corpus (events={self.events}, seed={self.random_seed}) loaded in "
            f"{self.seconds:.1f}s: {rows}{removed}"
        )


def seed_synthetic(
    events: int, random_seed: int = DEFAULT_SEED, progress: bool = True, force: bool = False
) -> Result:
    """Load the synthetic corpus unless the same one is already there; replace another one."""
    if events < 1:
        raise ValueError("--synthetic needs a positive number of events")
    started = time.perf_counter()
    with database.connection_context():
        existing = present()
        if existing == signature(events, random_seed) and not force:
            return Result(events, random_seed, True, 0.0, {})
        removed = 0
        with database.atomic():
            if existing is not None:
                removed = remove()
            counts = build_and_insert(events, random_seed, progress)
        optimize()
    return Result(events, random_seed, False, time.perf_counter() - started, counts, removed)
