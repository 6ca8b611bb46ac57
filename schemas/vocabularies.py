"""Every controlled vocabulary the API uses, each value with a one-line meaning.

This module is the single source: the seed schemas validate against it, the OpenAPI enums are
built from it and `GET /v1/vocabularies` serves it, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTOR_KINDS: dict[str, str] = {
    "person": "An individual human being.",
    "organization": "A non-state organization that is not primarily armed (party, NGO, agency).",
    "armed_group": "A non-state armed group, militia or paramilitary faction.",
    "state": "A sovereign state acting as a whole.",
    "government_body": "A ministry, office, agency or other organ of a government.",
    "military_unit": "A state military force, command, branch or unit.",
    "company": "A commercial company.",
    "media_outlet": "A news agency, newspaper, broadcaster or other media organization.",
    "coalition": "An alliance or umbrella of several actors.",
    "intergovernmental_organization": "An organization of states or one of its bodies or "
    "missions (the United Nations, a UN peacekeeping mission, the African Union, NATO).",
}

LOCATION_KINDS: dict[str, str] = {
    "country": "A sovereign country.",
    "region": "A sub-national or cross-border region that is not an administrative unit.",
    "province": "A first-level administrative division (province, governorate, state).",
    "administrative_region": "An administrative division whatever its local name (a Malian "
    "or Burkinabe 'region', an oblast, a department): use it when `province` would mistranslate.",
    "district": "A second-level administrative division.",
    "city": "A city, town or village.",
    "military_base": "A military base, air base or camp.",
    "facility": "A non-military site: an oil field, company compound, embassy or building.",
}

COORDINATE_PRECISIONS: dict[str, str] = {
    "exact": "The coordinates mark the site itself (within about 1 km).",
    "approximate": "The coordinates are near the site (within about 10 km).",
    "centroid": "The coordinates are the centre of an area (country, province, region, city).",
}

DATE_KINDS: dict[str, str] = {
    "point": "It happened on `date`, known to its precision (no `end_date`).",
    "span": "It lasted from `date` to `end_date` (both inclusive): an operation, a campaign.",
    "window": "It happened at some unknown point between `date` and `end_date` (inclusive).",
    "on_or_before": "It happened (or began) at some unknown time on or before `date`; "
    "the start is open.",
}

CASUALTY_QUALIFIERS: dict[str, str] = {
    "exact": "The source gives the number as such: '12 soldiers were killed'.",
    "at_least": "A lower bound: 'at least 12 were killed'.",
    "about": "An approximate number: 'about 12', 'some 12', 'around a dozen'.",
}

COORDINATE_SOURCES: dict[str, str] = {
    "location": "The coordinates are those of the record's own location.",
    "ancestor": "The location has none: these are the nearest enclosing place's "
    "(`coordinates.location` names it), so the point is only as precise as that place.",
}

DATE_PRECISIONS: dict[str, str] = {
    "day": "The exact day is known.",
    "week": "Only the week is known; the date is the Monday of that week.",
    "month": "Only the month is known; the date is the first day of that month.",
    "year": "Only the year is known; the date is the first of January of that year.",
}

# ACLED's event_type / sub_event_type, as snake_case codes.
EVENT_TYPES: dict[str, str] = {
    "battles": "Violent interaction between two organized armed groups.",
    "explosions_remote_violence": "One-sided violence by explosive or remote means "
    "(air strikes, shelling, missiles, rockets, IEDs).",
    "violence_against_civilians": "Violence by an organized armed group against unarmed people.",
    "protests": "A public, non-violent demonstration.",
    "riots": "A violent demonstration or mob violence.",
    "strategic_developments": "A non-violent but significant development: agreements, "
    "deployments, base handovers, visits, changes to a group.",
}

EVENT_SUB_TYPES: dict[str, tuple[str, str]] = {
    # code: (event type, meaning)
    "armed_clash": ("battles", "Armed, organized groups fight each other."),
    "government_regains_territory": ("battles", "Government forces retake territory."),
    "non_state_actor_overtakes_territory": ("battles", "A non-state group seizes territory."),
    "chemical_weapon": ("explosions_remote_violence", "Use of chemical weapons."),
    "air_drone_strike": ("explosions_remote_violence", "A strike by aircraft or drone."),
    "suicide_bomb": ("explosions_remote_violence", "A suicide bombing."),
    "shelling_artillery_missile_attack": (
        "explosions_remote_violence",
        "Shelling, artillery, rocket or missile fire.",
    ),
    "remote_explosive_landmine_ied": (
        "explosions_remote_violence",
        "A remotely detonated explosive, landmine or IED.",
    ),
    "grenade": ("explosions_remote_violence", "A grenade attack."),
    "sexual_violence": ("violence_against_civilians", "Sexual violence against civilians."),
    "attack": ("violence_against_civilians", "An attack on civilians."),
    "abduction_forced_disappearance": (
        "violence_against_civilians",
        "An abduction or forced disappearance.",
    ),
    "peaceful_protest": ("protests", "A protest with no intervention."),
    "protest_with_intervention": ("protests", "A protest that authorities intervene in."),
    "excessive_force_against_protesters": ("protests", "Lethal or excessive force on protesters."),
    "violent_demonstration": ("riots", "A demonstration turning violent."),
    "mob_violence": ("riots", "Violence by an unorganized mob."),
    "agreement": ("strategic_developments", "An agreement between actors."),
    "arrests": ("strategic_developments", "Arrests by state forces."),
    "change_to_group_activity": (
        "strategic_developments",
        "A change in a group's leadership, posture, deployment or activity.",
    ),
    "disrupted_weapons_use": (
        "strategic_developments",
        "A weapon intercepted, defused or seized before use.",
    ),
    "headquarters_or_base_established": (
        "strategic_developments",
        "A group establishes a headquarters or base.",
    ),
    "looting_property_destruction": ("strategic_developments", "Looting or property destruction."),
    "non_violent_transfer_of_territory": (
        "strategic_developments",
        "Territory or a base changes hands without violence.",
    ),
    "military_operation": (
        "strategic_developments",
        "A multi-day military operation reported as a whole (date it as a span); its "
        "discrete clashes or strikes, when the source reports them, are events of their own.",
    ),
    "other": ("strategic_developments", "Any other significant development (visits, talks)."),
}

PARTICIPANT_ROLES: dict[str, str] = {
    "perpetrator": "Carried out the attack or action.",
    "target": "Was attacked or was the object of the action.",
    "victim": "Was killed, injured or harmed.",
    "participant": "Took part without being perpetrator or target (talks, visits, meetings).",
    "recipient": "Received something: a handed-over base, a deployment, a visit.",
}

RELATION_PREDICATES: dict[str, str] = {
    "leads": "The subject heads the object.",
    "commands": "The subject is the military commander of the object.",
    "member_of": "The subject is a member of the object.",
    "part_of": "The subject (an organization or unit) is a component of the object.",
    "spokesperson_for": "The subject speaks for the object.",
    "succeeded": "The subject succeeded the object in a post.",
    "backed_by": "The subject is supported or sponsored by the object.",
    "allied_with": "The subject is allied with the object.",
    "opposes": "The subject is hostile to or in conflict with the object.",
    "affiliated_with": "The subject is affiliated with the object (looser than member_of).",
    "citizen_of": "The subject (a person) is a national of the object (a state).",
}

STATEMENT_CHANNELS: dict[str, str] = {
    "statement": "A written or press statement issued by the speaker(s).",
    "joint_statement": "A statement issued jointly by several signatories.",
    "tweet": "A post on Twitter/X.",
    "social_media_post": "A post on another social media platform or messaging channel.",
    "interview": "Remarks given to a media outlet (the `outlet`).",
    "press_conference": "Remarks at a press conference or briefing.",
    "speech": "A speech or public address.",
    "announcement": "An official announcement by an institution.",
    "news_report": "A report by a media outlet, citing its own sources.",
    "organization_report": "A report, finding or count published by an organization that is "
    "not a media outlet ('according to the United Nations'); the organization is the speaker.",
    "unattributed_report": "Reporting the source attributes to no one ('reportedly', 'it was "
    "reported'): it may have no speakers; `attribution` quotes the source's wording.",
}


# Why a record is counted in the "imprecise" row of its group rather than in one bucket of a
# dimension (GET /v1/events/aggregate): the precision rules of the aggregates.
IMPRECISE_REASONS: dict[str, str] = {
    "date_precision": "Its date is known less precisely than the bucket (a month-precision "
    "date counted by week, a year-precision one by month): it may belong to several buckets.",
    "window": "It happened at some unknown point of a `window` that covers several buckets.",
    "span": "It lasted over several buckets (a `span`): no one bucket holds it.",
    "open_start": "Its date is `on_or_before`: the start is open, so it may belong to any "
    "bucket up to its end (never spread, not even with `spread=even`).",
    "not_located_at_level": "Its place is known, but no enclosing place (or itself) is of the "
    "asked level: an event known only to the country, counted by province.",
    "no_location": "It has no place.",
    "no_coordinates": "Its place has no coordinates of its own.",
    "area_centroid": "Its place's coordinates are the centre of an area (a country, province, "
    "district or region), not a point that lies in one grid cell.",
}


EDGE_KINDS: dict[str, str] = {
    "relation": "A stated relation between the two actors (`predicate` says which).",
    "co_participation": "Both actors took part in the same event(s) (`events`).",
    "co_signatory": "Both actors spoke in the same statement(s) (`statements`).",
}


@dataclass(frozen=True)
class IdentifierScheme:
    """A scheme of external identifiers: what it is, which records take it, the format of its
    values (a regular expression; ISO codes are also checked against the assigned ones) and
    the URL of a value's page, `{value}` standing for it (None: the scheme has no pages)."""

    meaning: str
    record_types: tuple[str, ...]
    pattern: str
    example: str
    url_template: str | None


_ISO_PAGE = "https://www.iso.org/obp/ui/#iso:code:3166:{value}"
_CROSSWALK_NAME = r"^\S(?:.{0,198}\S)?$"  # a name as the other dataset spells it

IDENTIFIER_SCHEMES: dict[str, IdentifierScheme] = {
    "wikidata": IdentifierScheme(
        "A Wikidata item (QID).",
        ("actor", "location"),
        r"^Q[1-9][0-9]{0,11}$",
        "Q796",
        "https://www.wikidata.org/wiki/{value}",
    ),
    "geonames": IdentifierScheme(
        "A GeoNames feature id.",
        ("location",),
        r"^[1-9][0-9]{0,9}$",
        "99237",
        "https://www.geonames.org/{value}",
    ),
    "iso3166-1": IdentifierScheme(
        "An ISO 3166-1 alpha-2 country code (a country, or the state acting as one).",
        ("actor", "location"),
        r"^[A-Z]{2}$",
        "IQ",
        _ISO_PAGE,
    ),
    "iso3166-2": IdentifierScheme(
        "An ISO 3166-2 code of a country's subdivision.",
        ("location",),
        r"^[A-Z]{2}-[A-Z0-9]{1,3}$",
        "IQ-AN",
        _ISO_PAGE,
    ),
    "acled": IdentifierScheme(
        "The actor's name as ACLED codes it (a crosswalk to ACLED's actor1 / actor2).",
        ("actor",),
        _CROSSWALK_NAME,
        "Kataib Hezbollah",
        None,
    ),
    "ucdp": IdentifierScheme(
        "The actor's name in UCDP's datasets (a crosswalk to UCDP's side names).",
        ("actor",),
        _CROSSWALK_NAME,
        "Government of Iraq",
        None,
    ),
}


def identifier_url(scheme: str, value: str) -> str | None:
    """The page of an identifier, when its scheme has pages."""
    template = IDENTIFIER_SCHEMES[scheme].url_template
    return template.replace("{value}", value) if template else None


def event_sub_types_of(event_type: str) -> list[str]:
    """Sub-type codes that belong to an event type."""
    return [code for code, (parent, _) in EVENT_SUB_TYPES.items() if parent == event_type]


def all_vocabularies() -> dict[str, dict[str, str]]:
    """Every vocabulary as {name: {code: meaning}} (sub-types carry their type in the meaning)."""
    return {
        "actor_kinds": ACTOR_KINDS,
        "location_kinds": LOCATION_KINDS,
        "coordinate_precisions": COORDINATE_PRECISIONS,
        "date_precisions": DATE_PRECISIONS,
        "date_kinds": DATE_KINDS,
        "casualty_qualifiers": CASUALTY_QUALIFIERS,
        "imprecise_reasons": IMPRECISE_REASONS,
        "coordinate_sources": COORDINATE_SOURCES,
        "event_types": EVENT_TYPES,
        "event_sub_types": {code: meaning for code, (_, meaning) in EVENT_SUB_TYPES.items()},
        "participant_roles": PARTICIPANT_ROLES,
        "relation_predicates": RELATION_PREDICATES,
        "statement_channels": STATEMENT_CHANNELS,
        "identifier_schemes": {code: s.meaning for code, s in IDENTIFIER_SCHEMES.items()},
    }
