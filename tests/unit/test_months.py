"""The bucket numbers kept on dated rows (api/store/months.py) against the aggregates' public
keys (api/queries/aggregates.py), as pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from api.queries.aggregates import _public_bucket, bucket_of
from api.store.months import month_number, week_number


@pytest.mark.parametrize(
    "day",
    [
        dt.date(1, 1, 1),  # an open start's first day
        dt.date(1969, 12, 28),  # a Sunday: the week of the Monday before 1970-01-01
        dt.date(1969, 12, 29),
        dt.date(1970, 1, 1),
        dt.date(2020, 12, 31),  # ISO week 53 of 2020
        dt.date(2021, 1, 3),  # still 2020-W53
        dt.date(2021, 1, 4),
        dt.date(2024, 2, 29),
    ],
)
def test_a_days_week_and_month_numbers_name_its_buckets(day):
    assert _public_bucket("week", week_number(day)) == bucket_of("week", day)
    assert _public_bucket("month", month_number(day)) == bucket_of("month", day)
    monday = day - dt.timedelta(days=day.weekday())
    assert week_number(monday) == week_number(monday + dt.timedelta(days=6)) == week_number(day)
    if monday > dt.date.min:
        assert week_number(monday - dt.timedelta(days=1)) == week_number(day) - 1
