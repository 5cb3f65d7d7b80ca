"""The subset of OData v4 system query options the catalog service honours: paging, filter, select."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

MAX_PAGE_SIZE = 500


class ODataError(ValueError):
    """A query option the service cannot apply; answered with 400 and an OData error body."""


Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class QueryOptions:
    """Parsed ``$top``, ``$skip``, ``$count``, ``$filter`` and ``$select`` of one request."""

    top: int | None
    skip: int
    count: bool
    predicate: Predicate | None
    select: tuple[str, ...] | None
    raw: Mapping[str, str]

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> QueryOptions:
        """Read the system query options of a request.

        :param query: the request's query parameters (one value per name).
        """
        top = non_negative_int(query, "$top")
        skip = non_negative_int(query, "$skip") or 0
        count_text = query.get("$count", "false").lower()
        if count_text not in ("true", "false"):
            raise ODataError("$count must be true or false")
        filter_text = query.get("$filter")
        select_text = query.get("$select")
        select = (
            tuple(part.strip() for part in select_text.split(",") if part.strip()) if select_text else None
        )
        return cls(
            top=top,
            skip=skip,
            count=count_text == "true",
            predicate=parse_filter(filter_text) if filter_text else None,
            select=select,
            raw=query,
        )


def page(rows: list[dict[str, Any]], options: QueryOptions, *, base_url: str, context: str) -> dict[str, Any]:
    """Filter, cut and project ``rows`` into an OData collection response.

    At most :data:`MAX_PAGE_SIZE` rows come back; when more remain, ``@odata.nextLink`` points at the next
    page with the same options, as server-driven paging does.

    :param rows: every entity of the collection, in a stable order.
    :param options: the request's query options.
    :param base_url: absolute URL of the collection, without query string.
    :param context: the ``@odata.context`` value.
    """
    if options.predicate is not None:
        rows = [row for row in rows if options.predicate(row)]
    wanted = MAX_PAGE_SIZE if options.top is None else min(options.top, MAX_PAGE_SIZE)
    window = rows[options.skip : options.skip + wanted]
    if options.select is not None:
        unknown = [name for name in options.select if rows and name not in rows[0]]
        if unknown:
            raise ODataError(f"$select names unknown properties: {', '.join(unknown)}")
        window = [{name: row[name] for name in options.select if name in row} for row in window]
    body: dict[str, Any] = {"@odata.context": context}
    if options.count:
        body["@odata.count"] = len(rows)
    body["value"] = window
    served_until = options.skip + len(window)
    requested_until = None if options.top is None else options.skip + options.top
    if served_until < len(rows) and (requested_until is None or served_until < requested_until):
        body["@odata.nextLink"] = f"{base_url}?{_next_query(options, served_until, requested_until)}"
    return body


def _next_query(options: QueryOptions, skip: int, requested_until: int | None) -> str:
    query = {key: value for key, value in options.raw.items() if key not in ("$skip", "$top")}
    if requested_until is not None:
        query["$top"] = str(requested_until - skip)
    query["$skip"] = str(skip)
    return urlencode(query, safe="$'(),")


def non_negative_int(query: Mapping[str, str], name: str) -> int | None:
    """Read one integer query parameter; None when absent.

    :raises ODataError: when it is not a non-negative integer.
    """
    text = query.get(name)
    if text is None:
        return None
    if not text.isdigit():
        raise ODataError(f"{name} must be a non-negative integer, got {text!r}")
    return int(text)


# --- $filter ------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[(),]))"
)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}
_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "startswith": lambda value, arg: value.startswith(arg),
    "endswith": lambda value, arg: value.endswith(arg),
    "contains": lambda value, arg: arg in value,
}


def parse_filter(text: str) -> Predicate:
    """Compile a ``$filter`` expression into a predicate over one entity.

    Supported: comparisons (``eq ne gt ge lt le``) of a property with a string, number, ``true``,
    ``false`` or ``null`` literal; ``startswith``, ``endswith``, ``contains``; ``and``, ``or``, ``not``
    and parentheses.

    :param text: the expression.
    """
    tokens = _tokenize(text)
    parser = _FilterParser(tokens, text)
    predicate = parser.expression()
    if parser.position != len(tokens):
        raise ODataError(f"unexpected {tokens[parser.position][1]!r} in $filter {text!r}")
    return predicate


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise ODataError(f"cannot read $filter {text!r} at position {position}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


class _FilterParser:
    """Recursive descent over the token list: or > and > not > primary."""

    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0

    def expression(self) -> Predicate:
        left = self._conjunction()
        while self._accept_word("or"):
            right = self._conjunction()
            left = _either(left, right)
        return left

    def _conjunction(self) -> Predicate:
        left = self._negation()
        while self._accept_word("and"):
            right = self._negation()
            left = _both(left, right)
        return left

    def _negation(self) -> Predicate:
        if self._accept_word("not"):
            inner = self._negation()
            return lambda row: not inner(row)
        return self._primary()

    def _primary(self) -> Predicate:
        kind, value = self._next()
        if kind == "punct" and value == "(":
            inner = self.expression()
            self._expect(")")
            return inner
        if kind != "word":
            raise ODataError(f"expected a property or function in $filter {self.text!r}, got {value!r}")
        if value in _FUNCTIONS:
            return self._function(value)
        operator_kind, operator = self._next()
        if operator_kind != "word" or operator not in _COMPARISONS:
            raise ODataError(f"unsupported operator {operator!r} in $filter {self.text!r}")
        literal = self._literal()
        compare = _COMPARISONS[operator]
        prop = value
        return lambda row: compare(row.get(prop), literal)

    def _function(self, name: str) -> Predicate:
        self._expect("(")
        kind, prop = self._next()
        if kind != "word":
            raise ODataError(f"{name}() needs a property name first in $filter {self.text!r}")
        self._expect(",")
        argument = self._literal()
        self._expect(")")
        if not isinstance(argument, str):
            raise ODataError(f"{name}() needs a string argument in $filter {self.text!r}")
        function = _FUNCTIONS[name]
        return lambda row: isinstance(row.get(prop), str) and function(row[prop], argument)

    def _literal(self) -> Any:
        kind, value = self._next()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "word" and value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        raise ODataError(f"expected a literal in $filter {self.text!r}, got {value!r}")

    def _next(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ODataError(f"$filter {self.text!r} ends too early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _accept_word(self, word: str) -> bool:
        if self.position < len(self.tokens) and self.tokens[self.position] == ("word", word):
            self.position += 1
            return True
        return False

    def _expect(self, punct: str) -> None:
        kind, value = self._next()
        if (kind, value) != ("punct", punct):
            raise ODataError(f"expected {punct!r} in $filter {self.text!r}, got {value!r}")


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda row: left(row) and right(row)


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda row: left(row) or right(row)
