"""Reading bundles: YAML (dates kept as strings, so the schema judges them) or JSON, from a
file (with its `document` beside it) or from a request body."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from api.ingest.problems import Problem

# The deepest nesting of lists and mappings a bundle or a record may have (a bundle needs 5:
# bundle, statements, a statement, its citations, a citation). Deeper is a 422, found before
# the parsers recurse into it (Python's recursion limit answered 500).
MAX_NESTING = 20
TOO_DEEP = f"Nested deeper than {MAX_NESTING} levels of lists and mappings."
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{\]}]')


def too_deep_json(text: str | bytes) -> bool:
    """True when JSON `text` nests lists and objects deeper than MAX_NESTING (brackets
    inside strings do not count)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


class _BundleLoader(yaml.SafeLoader):
    """PyYAML's safe loader without the timestamp resolver: `date: 2021-02-30` stays the
    string '2021-02-30' until the schema says it is not a real date (instead of PyYAML
    raising before any validation); nesting deeper than MAX_NESTING is an error."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None, None, TOO_DEEP, self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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
        if media_type.endswith("json") and too_deep_json(text):
            return Input(name, None, [Problem(name, "", "(body)", f"Not valid JSON: {TOO_DEEP}")])
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
