"""Unit tests of api/queries/snippets.py: `fold` (case and diacritics folding, with a map back
to the original text) and `snippet` (a window of text around the first match)."""

from __future__ import annotations

import pytest

from api.queries.snippets import fold, snippet

ELLIPSIS = "…"


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Sévaré", "sevare"),
        ("ÉTATS-UNIS", "etats-unis"),
        ("Straße", "strasse"),  # casefold, not lower
        ("Qāsim Sulaymānī", "qasim sulaymani"),
        ("\uff26\uff55\uff4c\uff4c", "full"),  # NFKD compatibility forms
        ("\ufb01nal", "final"),  # a ligature
        ("حزب الله", "حزب الله"),  # Arabic has no case: unchanged
        ("كتائب", "كتايب"),  # the hamza above is a combining mark, dropped like an accent
        ("Кириллица", "кириллица"),
        ("", ""),
    ],
)
def test_fold_removes_case_and_diacritics(text: str, folded: str) -> None:
    assert fold(text)[0] == folded


@pytest.mark.parametrize(
    "text", ["Sévaré", "Straße am Fluß", "\ufb01nal \uff26\uff55\uff4c\uff4c", "قاسم سلیمانی"]
)
def test_fold_maps_every_folded_character_back_to_its_source(text: str) -> None:
    folded, index = fold(text)
    assert len(index) == len(folded)
    assert index == sorted(index)
    assert all(0 <= position < len(text) for position in index)
    for char, position in zip(folded, index, strict=True):
        assert char in fold(text[position])[0]


def test_short_text_is_returned_whole_with_whitespace_collapsed() -> None:
    assert (
        snippet(["  Rockets   struck\nnear the base. "], ["base"])
        == "Rockets struck near the base."
    )
    assert snippet(["Short."], ["absent"], width=160) == "Short."


def test_no_text_gives_an_empty_snippet() -> None:
    assert snippet([], ["x"]) == ""
    assert snippet(["", None], ["x"]) == ""


def long_text(middle: str, words: int = 60) -> str:
    before = " ".join(f"before{n}" for n in range(words))
    after = " ".join(f"after{n}" for n in range(words))
    return f"{before} {middle} {after}"


def test_window_is_around_the_match_on_word_boundaries_with_ellipses() -> None:
    text = long_text("the Patriot missile systems")
    got = snippet([text], ["patriot"], width=80)
    assert "Patriot" in got
    assert got.startswith(ELLIPSIS) and got.endswith(ELLIPSIS)
    inner = got.strip(ELLIPSIS)
    assert len(inner) <= 80
    assert inner in text
    words = text.split(" ")
    assert all(word in words for word in inner.split(" ")), "cut inside a word"


def test_match_at_the_start_has_no_leading_ellipsis() -> None:
    text = "Patriot " + long_text("middle")
    got = snippet([text], ["patriot"], width=60)
    assert got.startswith("Patriot") and got.endswith(ELLIPSIS)


def test_match_at_the_end_has_no_trailing_ellipsis() -> None:
    text = long_text("middle") + " Patriot"
    got = snippet([text], ["patriot"], width=60)
    assert got.startswith(ELLIPSIS) and got.endswith("Patriot")


def test_words_match_at_word_starts_only() -> None:
    # "asad" occurs inside "Masada" first, then as a word: the snippet is around the word.
    text = "Masada " + " ".join(f"filler{n}" for n in range(40)) + " al-Asad air base"
    got = snippet([text], ["asad"], width=40)
    assert "al-Asad" in got and "Masada" not in got


def test_matching_ignores_case_and_diacritics_but_keeps_the_original_text() -> None:
    text = long_text("à l'hôpital de Sévaré, a rappelé le gouverneur")
    for word in ("sevare", "SÉVARÉ", "Sevaré"):
        got = snippet([text], [word], width=60)
        assert "Sévaré" in got, word


def test_first_text_holding_a_match_wins() -> None:
    title, body = "Attack on the market", long_text("Konna market attack")
    assert snippet([title, body], ["konna"], width=40) != title
    assert "Konna" in snippet([title, body], ["konna"], width=40)
    assert snippet([title, body], ["market"], width=40) == title


def test_without_a_match_the_start_of_the_first_text() -> None:
    text = long_text("nothing")
    got = snippet([text], ["absent"], width=50)
    assert got.startswith("before0") and got.endswith(ELLIPSIS)


@pytest.mark.parametrize(
    "word, expected",
    [("المهندس", "المهندس"), ("кириллица", "Кириллица"), ("سلیمانی", "سلیمانی")],
)
def test_non_latin_scripts(word: str, expected: str) -> None:
    text = long_text("Abu Mahdi al-Muhandis (أبو مهدي المهندس) Кириллица قاسم سلیمانی", 40)
    got = snippet([text], [word], width=60)
    assert expected in got and got.startswith(ELLIPSIS)


def test_several_words_match_the_first_found() -> None:
    text = long_text("Iraq and Iran")
    got = snippet([text], ["iran", "iraq"], width=30)
    assert "Iraq" in got
