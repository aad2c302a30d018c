"""Which metrics and labels a PromQL expression uses, for the tests of the
alert rules and dashboards in deploy/.

Not a parser of the whole language: a scanner that knows enough of it to find
the metric names (`metric_names`), the label matchers of each selector and the
labels of `by`, `without`, `on`, `ignoring`, `group_left` and `group_right`
clauses (`parse`). Function and aggregation names, keywords, numbers,
durations, ranges and subqueries (`[5m]`, `[1h:1m]`), string arguments and
Grafana variables (`$__rate_interval`, `${job}`) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AGGREGATIONS = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    }
)
# Followed by a parenthesised list of label names (optional for group_*).
GROUPING_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"})

_SPACE = re.compile(r"\s+|#[^\n]*")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+"
    r"|(?:[0-9]+(?:ms|[smhdwy]))+"
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z0-9_]+")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCH_OPERATOR = re.compile(r"=~|!~|!=|=")


class PromQLSyntaxError(ValueError):
    """The scanner met something it does not understand."""


@dataclass(frozen=True)
class Matcher:
    label: str
    operator: str
    value: str


@dataclass(frozen=True)
class Selector:
    """One vector selector: `name{matchers}`; `name` is None for `{...}` alone
    without a `__name__` equality matcher."""

    name: str | None
    matchers: tuple[Matcher, ...]

    @property
    def labels(self) -> frozenset[str]:
        """The label names its matchers use (`__name__` aside)."""
        return frozenset(m.label for m in self.matchers if m.label != "__name__")


@dataclass(frozen=True)
class Usage:
    selectors: tuple[Selector, ...]
    grouping: frozenset[str]

    @property
    def metric_names(self) -> set[str]:
        return {s.name for s in self.selectors if s.name is not None}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects."""
    return parse(expr).metric_names


def grouping_labels(expr: str) -> set[str]:
    """The labels of its by/without/on/ignoring/group_left/group_right clauses."""
    return set(parse(expr).grouping)


def parse(expr: str) -> Usage:
    return _Scanner(expr).run()


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    if literal[0] == "`":
        return body
    return re.sub(r"\\(.)", r"\1", body)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.selectors: list[Selector] = []
        self.grouping: set[str] = set()

    # ------------------------------------------------------------ primitives

    def _skip_space(self) -> None:
        while True:
            match = _SPACE.match(self.text, self.pos)
            if not match or not match.group():
                return
            self.pos = match.end()

    def _peek(self) -> str:
        self._skip_space()
        return self.text[self.pos : self.pos + 1]

    def _error(self, what: str) -> PromQLSyntaxError:
        return PromQLSyntaxError(f"{what} at offset {self.pos} of {self.text!r}")

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise self._error(f"expected {char!r}")
        self.pos += 1

    # ------------------------------------------------------------- structure

    def run(self) -> Usage:
        while self._peek():
            self._step()
        return Usage(tuple(self.selectors), frozenset(self.grouping))

    def _step(self) -> None:
        char = self._peek()
        for pattern in (_STRING, _VARIABLE, _NUMBER):
            match = pattern.match(self.text, self.pos)
            if match:
                self.pos = match.end()
                return
        if char == "{":
            self.selectors.append(self._selector(None))
            return
        if char == "[":
            self._skip_brackets()
            return
        identifier = _IDENTIFIER.match(self.text, self.pos)
        if identifier:
            self.pos = identifier.end()
            self._identifier(identifier.group())
            return
        if char in "()},+-*/%^<>=!@":
            self.pos += 1
            return
        if char == ",":
            self.pos += 1
            return
        raise self._error(f"unexpected {char!r}")

    def _identifier(self, word: str) -> None:
        lower = word.lower()
        following = self._peek()
        if lower in GROUPING_KEYWORDS:
            if following == "(":
                self.grouping.update(self._label_list())
            return
        if lower in KEYWORDS or lower in AGGREGATIONS or following == "(":
            return  # a keyword, an aggregation or a function call
        if following == "{":
            self.selectors.append(self._selector(word))
        else:
            self.selectors.append(Selector(word, ()))

    def _label_list(self) -> list[str]:
        self._expect("(")
        labels: list[str] = []
        while self._peek() != ")":
            if not self._peek():
                raise self._error("unclosed label list")
            string = _STRING.match(self.text, self.pos)
            label = string or _LABEL.match(self.text, self.pos)
            if not label:
                raise self._error("expected a label name")
            self.pos = label.end()
            labels.append(_unquote(label.group()) if string else label.group())
            if self._peek() == ",":
                self.pos += 1
        self.pos += 1
        return labels

    def _selector(self, name: str | None) -> Selector:
        self._expect("{")
        matchers: list[Matcher] = []
        while self._peek() != "}":
            if not self._peek():
                raise self._error("unclosed selector")
            string = _STRING.match(self.text, self.pos)
            label = string or _LABEL.match(self.text, self.pos)
            if not label:
                raise self._error("expected a label name")
            self.pos = label.end()
            label_name = _unquote(label.group()) if string else label.group()
            self._skip_space()
            operator = _MATCH_OPERATOR.match(self.text, self.pos)
            if operator is None:
                if not string:
                    raise self._error("expected a matcher operator")
                name = label_name  # {"metric.name", ...}: a quoted metric name
            else:
                self.pos = operator.end()
                self._skip_space()
                value = _STRING.match(self.text, self.pos)
                if not value:
                    raise self._error("expected a quoted label value")
                self.pos = value.end()
                matchers.append(Matcher(label_name, operator.group(), _unquote(value.group())))
            if self._peek() == ",":
                self.pos += 1
        self.pos += 1
        for matcher in matchers:
            if matcher.label == "__name__" and matcher.operator == "=":
                name = matcher.value
        return Selector(name, tuple(matchers))

    def _skip_brackets(self) -> None:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self._error("unclosed range")
        self.pos = end + 1
