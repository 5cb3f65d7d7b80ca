"""The $filter parser and server-driven paging, without a server."""

from __future__ import annotations

import pytest

from emulators.datasphere.odata import ODataError, QueryOptions, page, parse_filter

ROWS = [{"name": f"A{n}", "spaceName": "S" if n % 2 else "T", "n": n, "flag": n > 5} for n in range(10)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name eq 'A3'", ["A3"]),
        ("spaceName eq 'S' and n lt 5", ["A1", "A3"]),
        ("n ge 8 or name eq 'A0'", ["A0", "A8", "A9"]),
        ("not (flag eq false)", ["A6", "A7", "A8", "A9"]),
        ("startswith(name,'A1')", ["A1"]),
        ("name ne 'A0' and (n eq 1 or n eq 2)", ["A1", "A2"]),
    ],
)
def test_filter_expressions(expression: str, expected: list[str]) -> None:
    predicate = parse_filter(expression)

    assert [row["name"] for row in ROWS if predicate(row)] == expected


def test_doubled_quote_in_a_literal() -> None:
    assert parse_filter("name eq 'O''Brien'")({"name": "O'Brien"})


@pytest.mark.parametrize("expression", ["name like 'A'", "name eq", "(name eq 'A'", "eq 'A'"])
def test_unreadable_filters_are_errors(expression: str) -> None:
    with pytest.raises(ODataError):
        parse_filter(expression)


def test_next_link_keeps_the_filter() -> None:
    rows = [{"name": f"A{n:04d}", "kind": "x"} for n in range(1200)]
    options = QueryOptions.parse({"$filter": "kind eq 'x'", "$count": "true"})

    body = page(rows, options, base_url="http://h/c", context="ctx")

    assert body["@odata.count"] == 1200
    assert len(body["value"]) == 500
    assert body["@odata.nextLink"] == "http://h/c?$filter=kind+eq+'x'&$count=true&$skip=500"
