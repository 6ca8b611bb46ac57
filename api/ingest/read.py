"""Reading bundles: YAML (dates kept as strings, so the schema judges them) or JSON, from a
file (with its `document` beside it) or from a request body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from api.ingest.problems import Problem


class _BundleLoader(yaml.SafeLoader):
    """PyYAML's safe loader without the timestamp resolver: `date: 2021-02-30` stays the
    string '2021-02-30' until the schema says it is not a real date (instead of PyYAML
    raising before any validation)."""


_BundleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Input:
    """One bundle as read, not yet validated: `name` is what errors call it (file name)."""

    name: str
    raw: Any
    problems: list[Problem]


def parse_yaml(text: str) -> Any:
    """YAML text as data, dates as strings."""
    return yaml.load(text, Loader=_BundleLoader)


def parse_body(body: bytes, media_type: str, name: str = "request body") -> Input:
    """A request body: `application/json`, or YAML (`application/yaml` and its aliases)."""
    try:
        text = body.decode("utf-8")
        raw = json.loads(text) if media_type.endswith("json") else parse_yaml(text)
    except UnicodeDecodeError:
        return Input(name, None, [Problem(name, "", "(body)", "Not UTF-8 text.")])
    except (ValueError, yaml.YAMLError) as error:
        kind = "JSON" if media_type.endswith("json") else "YAML"
        message = f"Not valid {kind}: {' '.join(str(error).split())}"
        return Input(name, None, [Problem(name, "", "(body)", message)])
    return Input(name, raw, [])


def read_file(path: Path) -> Input:
    """A bundle file; its `source.document` (a file beside it) becomes `source.text`."""
    path = Path(path)
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return Input(path.name, None, [Problem(path.name, "", "(file)", f"cannot read: {error}")])
    except yaml.YAMLError as error:
        message = f"not valid YAML: {' '.join(str(error).split())}"
        return Input(path.name, None, [Problem(path.name, "", "(file)", message)])
    problems = []
    source = raw.get("source") if isinstance(raw, dict) else None
    if isinstance(source, dict) and isinstance(source.get("document"), str):
        document = path.parent / source["document"]
        if source.get("text") is None:
            try:
                source["text"] = document.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or str(error)
                message = f"cannot read {source['document']!r} beside the bundle: {reason}"
                problems.append(Problem(path.name, "source.document", "source.document", message))
    return Input(path.name, raw, problems)
