"""Snippets: a short window of a record's text around the first match of a query."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SNIPPET_WIDTH = 160


def fold(text: str) -> tuple[str, list[int]]:
    """`text` case-folded without diacritics, and each folded character's index in `text`."""
    chars, index = [], []
    for position, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                chars.append(folded)
                index.append(position)
    return "".join(chars), index


def snippet(texts: Iterable[str], words: list[str], width: int = _SNIPPET_WIDTH) -> str:
    """About `width` characters of the first text that holds a match, around the match."""
    texts = [re.sub(r"\s+", " ", text).strip() for text in texts if text]
    if not texts:
        return ""
    folded_words = [fold(word)[0] for word in words]
    pattern = (
        re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, folded_words)) + ")")
        if folded_words
        else None
    )
    for text in texts:
        folded, index = fold(text)
        found = pattern.search(folded) if pattern else None
        if found:
            center = index[found.start()]
            break
    else:
        text, center = texts[0], 0
    if len(text) <= width:
        return text
    start = max(0, min(center - width // 3, len(text) - width))
    end = min(len(text), start + width)
    if start > 0:  # begin and end on word boundaries
        space = text.find(" ", start, center)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", center, end)
        end = space if space > center else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")
