"""Okta's `search` and `filter` expressions, a subset of SCIM filters (RFC 7644 3.4.2.2).

    expr     := and_expr ("or" and_expr)*
    and_expr := factor ("and" factor)*
    factor   := "(" expr ")" | ATTRIBUTE "pr" | ATTRIBUTE OP VALUE
    OP       := eq | sw | co | gt | ge | lt | le           (operators are case-insensitive)
    VALUE    := "a string" (with \\" and \\\\ escapes) | true | false | null | a number

`parse` returns a predicate over a user's flat attributes (`id`, `status`, `profile.email`,
...). With `search` string values compare case-insensitively, with `filter` exactly, as
Okta documents. Anything else raises `SearchError`, which the API answers with E0000031.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

Record = Mapping[str, JsonValue]
Predicate = Callable[[Record], bool]

TOP_LEVEL_ATTRIBUTES = frozenset(
    {
        "id",
        "status",
        "created",
        "activated",
        "statusChanged",
        "lastUpdated",
        "lastLogin",
        "passwordChanged",
        "type.id",
    }
)
CONTAINS_ATTRIBUTES = frozenset(
    {"profile.firstName", "profile.lastName", "profile.email", "profile.login"}
)
OPERATORS = frozenset({"eq", "sw", "co", "gt", "ge", "lt", "le"})
_TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()"]+))')
_ESCAPE = re.compile(r"\\(.)")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


class SearchError(ValueError):
    pass


@dataclass(frozen=True)
class _Token:
    kind: str  # "paren", "string" or "word"
    text: str


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while expression[position:].strip():
        match = _TOKEN.match(expression, position)
        if match is None or match.lastgroup is None:
            raise SearchError(f"Unexpected input at character {position}: {expression[position:]}")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


def _literal(token: _Token) -> JsonValue:
    if token.kind == "string":
        return _ESCAPE.sub(lambda escaped: escaped.group(1), token.text[1:-1])
    word = token.text.lower()
    if word in {"true", "false"}:
        return word == "true"
    if word == "null":
        return None
    if _NUMBER.fullmatch(token.text):
        return float(token.text) if "." in token.text else int(token.text)
    raise SearchError(f"Expected a quoted value, found {token.text}")


def _fold(value: JsonValue, case_insensitive: bool) -> JsonValue:
    return value.casefold() if case_insensitive and isinstance(value, str) else value


def _compare(op: str, actual: JsonValue, expected: JsonValue) -> bool:
    if op == "eq":
        return actual == expected
    both_strings = isinstance(actual, str) and isinstance(expected, str)
    if op in {"sw", "co"}:
        return both_strings and (
            str(actual).startswith(str(expected)) if op == "sw" else str(expected) in str(actual)
        )
    both_numbers = isinstance(actual, int | float) and isinstance(expected, int | float)
    return (both_strings or both_numbers) and bool(_ORDERINGS[op](actual, expected))


def _comparison(attribute: str, op: str, expected: JsonValue, fold: bool) -> Predicate:
    wanted = _fold(expected, fold)

    def matches(record: Record) -> bool:
        actual = record.get(attribute)
        if op == "pr":
            return actual is not None
        candidates = actual if isinstance(actual, list) else [actual]
        return any(_compare(op, _fold(item, fold), wanted) for item in candidates)

    return matches


class _Parser:
    def __init__(self, tokens: list[_Token], case_insensitive: bool) -> None:
        self._tokens = tokens
        self._position = 0
        self._fold = case_insensitive

    def parse(self) -> Predicate:
        predicate = self._or()
        if self._position != len(self._tokens):
            raise SearchError(f"Unexpected {self._tokens[self._position].text}")
        return predicate

    def _peek_word(self) -> str | None:
        if self._position < len(self._tokens) and self._tokens[self._position].kind == "word":
            return self._tokens[self._position].text.lower()
        return None

    def _take(self) -> _Token:
        if self._position >= len(self._tokens):
            raise SearchError("Unexpected end of expression")
        token = self._tokens[self._position]
        self._position += 1
        return token

    def _or(self) -> Predicate:
        terms = [self._and()]
        while self._peek_word() == "or":
            self._take()
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else lambda record: any(t(record) for t in terms)

    def _and(self) -> Predicate:
        factors = [self._factor()]
        while self._peek_word() == "and":
            self._take()
            factors.append(self._factor())
        return factors[0] if len(factors) == 1 else lambda record: all(f(record) for f in factors)

    def _factor(self) -> Predicate:
        token = self._take()
        if token.text == "(":
            inner = self._or()
            if self._take().text != ")":
                raise SearchError("Missing closing parenthesis")
            return inner
        if token.kind != "word":
            raise SearchError(f"Expected an attribute, found {token.text}")
        attribute = _check_attribute(token.text)
        op = self._take().text.lower()
        if op == "pr":
            return _comparison(attribute, "pr", None, self._fold)
        if op not in OPERATORS:
            raise SearchError(f"Unsupported operator {op}")
        if op == "co" and attribute not in CONTAINS_ATTRIBUTES:
            raise SearchError(f"The co operator is not supported for {attribute}")
        return _comparison(attribute, op, _literal(self._take()), self._fold)


def _check_attribute(attribute: str) -> str:
    if attribute in TOP_LEVEL_ATTRIBUTES:
        return attribute
    if attribute.startswith("profile.") and len(attribute) > len("profile."):
        return attribute
    raise SearchError(f"Unsupported attribute {attribute}")


def parse(expression: str, *, case_insensitive: bool = True) -> Predicate:
    """Compile an Okta search (`case_insensitive`) or filter expression to a predicate."""
    tokens = _tokenize(expression)
    if not tokens:
        raise SearchError("Empty search expression")
    return _Parser(tokens, case_insensitive).parse()


def equality_value(expression: str, attribute: str) -> str | None:
    """The value when the whole expression is `attribute eq "value"`, else None.

    Okta answers such searches from an index; the simulator uses this to skip rendering
    every user of a large org (the full predicate still decides)."""
    try:
        tokens = _tokenize(expression)
    except SearchError:
        return None
    if len(tokens) != 3 or tokens[0].text != attribute or tokens[1].text.lower() != "eq":
        return None
    value = _literal(tokens[2]) if tokens[2].kind == "string" else None
    return value if isinstance(value, str) else None
