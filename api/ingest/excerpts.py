"""The form excerpts and verbatim quotes are compared in with a source's text, by imports and
record writes alike (seed/README): typographic quotes straightened, whitespace runs as one space.
"""

from __future__ import annotations

import re

_TYPOGRAPHIC = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def normalize(text: str) -> str:
    """The form excerpts and quotes are compared in: straight quotes, single spaces."""
    return re.sub(r"\s+", " ", text.translate(_TYPOGRAPHIC)).strip()
