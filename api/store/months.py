"""The months of a dated record's span as numbers (`year * 12 + month - 1`), and its ISO weeks
(Mondays counted from the one before 1970-01-01, plus WEEK_OFFSET), kept on events and
statements (`Dated.start_month`, `end_month`, `start_week`, `end_week`) so that aggregates group
weeks, months, quarters and years by an integer column an index holds, instead of computing
them from every row's date."""

from __future__ import annotations

import datetime as dt

import peewee as pw

from api.store.db import is_postgres


def month_number(day: dt.date) -> int:
    """The month of `day` as one number: `year * 12 + month - 1`."""
    return day.year * 12 + day.month - 1


def month_sql(column: pw.Node) -> pw.Node:
    """SQL: `month_number` of a date column."""
    if is_postgres():
        year = pw.Cast(pw.fn.date_part("year", column), "integer")
        month = pw.Cast(pw.fn.date_part("month", column), "integer")
    else:
        year = pw.Cast(pw.fn.substr(column, 1, 4), "INTEGER")
        month = pw.Cast(pw.fn.substr(column, 6, 2), "INTEGER")
    return year * 12 + month - 1


def fill_months(model: type[pw.Model], where: pw.Node | None = None) -> int:
    """Set `start_month` and `end_month` of the rows of `model` (those matching `where`) from
    their span; the number of rows."""
    query = model.update(
        start_month=month_sql(model.range_start), end_month=month_sql(model.range_end)
    )
    return query.where(where).execute() if where is not None else query.execute()


WEEK_OFFSET = 1_000_000  # weeks added so that every week number is positive (year 1 too)
_EPOCH = dt.date(1970, 1, 1)


def week_number(day: dt.date) -> int:
    """The ISO week of `day` as one number (the weeks since the Monday before 1970-01-01,
    plus WEEK_OFFSET)."""
    return ((day - _EPOCH).days + 3 + 7 * WEEK_OFFSET) // 7


def week_sql(column: pw.Node) -> pw.Node:
    """SQL: `week_number` of a date column."""
    if is_postgres():
        return (column - pw.SQL("DATE '1970-01-01'") + 3 + 7 * WEEK_OFFSET) / 7
    days = pw.fn.julianday(column) - 2440587.5  # since 1970-01-01
    return pw.Cast((days + 3 + 7 * WEEK_OFFSET) / 7, "INTEGER")


def fill_weeks(model: type[pw.Model], where: pw.Node | None = None) -> int:
    """Set `start_week` and `end_week` of the rows of `model` (those matching `where`) from
    their span; the number of rows."""
    query = model.update(start_week=week_sql(model.range_start), end_week=week_sql(model.range_end))
    return query.where(where).execute() if where is not None else query.execute()
