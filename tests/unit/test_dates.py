"""Unit tests of api.store.models.date_span: the days a date of each precision may mean (what the
date filters overlap). Expected values are written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from api.store.models import date_span


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize("day", ["2020-04-06", "2020-02-29", "2020-12-31", "2021-01-01"])
def test_a_day_is_itself(day: str) -> None:
    assert date_span(d(day), None, "day") == (d(day), d(day))


@pytest.mark.parametrize(
    "date, monday, sunday",
    [
        ("2020-03-30", "2020-03-30", "2020-04-05"),  # a Monday: its own week
        ("2020-04-01", "2020-03-30", "2020-04-05"),  # a Wednesday
        ("2020-04-05", "2020-03-30", "2020-04-05"),  # a Sunday ends its week, begins none
        ("2020-01-01", "2019-12-30", "2020-01-05"),  # a week across the new year
        ("2020-02-27", "2020-02-24", "2020-03-01"),  # across a leap day
        ("2022-11-07", "2022-11-07", "2022-11-13"),
    ],
)
def test_a_week_is_monday_to_sunday(date: str, monday: str, sunday: str) -> None:
    assert date_span(d(date), None, "week") == (d(monday), d(sunday))


@pytest.mark.parametrize(
    "date, first, last",
    [
        ("2020-02-01", "2020-02-01", "2020-02-29"),  # leap year
        ("2021-02-01", "2021-02-01", "2021-02-28"),
        ("2100-02-01", "2100-02-01", "2100-02-28"),  # divisible by 100: not a leap year
        ("2000-02-15", "2000-02-01", "2000-02-29"),  # divisible by 400: a leap year
        ("2020-12-01", "2020-12-01", "2020-12-31"),  # December: the next month is next year's
        ("2020-12-31", "2020-12-01", "2020-12-31"),
        ("2020-01-31", "2020-01-01", "2020-01-31"),
        ("2020-04-15", "2020-04-01", "2020-04-30"),
        ("2020-03-01", "2020-03-01", "2020-03-31"),
    ],
)
def test_a_month_is_the_whole_month(date: str, first: str, last: str) -> None:
    assert date_span(d(date), None, "month") == (d(first), d(last))


@pytest.mark.parametrize("date", ["2020-01-01", "2020-07-15", "2021-12-31"])
def test_a_year_is_january_to_december(date: str) -> None:
    year = d(date).year
    assert date_span(d(date), None, "year") == (dt.date(year, 1, 1), dt.date(year, 12, 31))


@pytest.mark.parametrize(
    "date, end_date, precision, expected",
    [
        ("2020-03-01", "2020-04-04", "day", ("2020-03-01", "2020-04-04")),
        ("2020-03-01", "2020-04-04", "month", ("2020-03-01", "2020-04-04")),
        ("2020-03-30", "2020-04-30", "week", ("2020-03-30", "2020-04-30")),
        ("2021-01-01", "2022-06-30", "year", ("2021-01-01", "2022-06-30")),
        # An end_date inside the period does not shorten it.
        ("2020-03-01", "2020-03-10", "month", ("2020-03-01", "2020-03-31")),
        ("2020-03-30", "2020-03-31", "week", ("2020-03-30", "2020-04-05")),
        ("2020-04-06", "2020-04-06", "day", ("2020-04-06", "2020-04-06")),
    ],
)
def test_end_date_extends_the_span(date: str, end_date: str, precision: str, expected) -> None:
    assert date_span(d(date), d(end_date), precision) == (d(expected[0]), d(expected[1]))
