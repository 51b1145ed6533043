"""The namespace generated code runs in: helper functions under short fixed names.

Generated source refers only to these names, to numbered constants and to numbered
locals; see `segmentql.compiler.codegen`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import re2

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime import access, modifiers, operators, predicates, prepared, temporal, values
from segmentql.runtime.errors import MISSING, ErrorValue
from segmentql.runtime.events import criterion

#: RE2 metacharacters: outside them (and escapes of punctuation) a pattern is literal text.
_REGEX_META = frozenset("\\.+*?()|[]{}^$")


class LiteralPattern:
    """A regex that is plain ASCII text with optional `^`/`$` anchors and the `i` flag.

    On an ASCII string such a regex matches exactly when the (ASCII-lowered, for `i`) string
    starts with, ends with, contains or equals the text, so the generated code tests it with
    `str` methods; any other string goes to RE2. (`str.isascii()` is O(1) in CPython.)
    """

    __slots__ = ("anchor", "ignore_case", "text")

    def __init__(self, text: str, anchor: str, ignore_case: bool) -> None:
        self.text = text
        #: "start", "end", "both" or "none"
        self.anchor = anchor
        self.ignore_case = ignore_case


def literal_pattern(pattern: str, flags: str) -> LiteralPattern | None:
    """The literal form of `~/pattern/flags`, or None when the pattern is not one.

    Only ASCII text qualifies: RE2's case folding maps some ASCII letters to non-ASCII ones
    (`k` and the Kelvin sign), which `str.lower()` on an ASCII string never meets.
    """
    if not set(flags) <= {"i", "s"} or not pattern.isascii():
        return None
    body = pattern
    start = body.startswith("^")
    if start:
        body = body[1:]
    end = False
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "$" and i == len(body) - 1:
            end = True
            break
        if c == "\\":
            if i + 1 >= len(body):
                return None
            escaped = body[i + 1]
            # an escaped punctuation character is itself; `\d`, `\b`, `\Q`... are not text
            if escaped.isalnum() or not escaped.isprintable() or escaped == " ":
                return None
            out.append(escaped)
            i += 2
            continue
        if c in _REGEX_META or not c.isprintable():
            return None
        out.append(c)
        i += 1
    text = "".join(out)
    if not text:
        return None
    ignore_case = "i" in flags
    if ignore_case:
        text = text.lower()
    anchor = {(True, True): "both", (True, False): "start", (False, True): "end",
              (False, False): "none"}[(start, end)]
    return LiteralPattern(text, anchor, ignore_case)


class Regex:
    """A compiled RE2 regex. `found(text)` is the boolean search the generated code uses: it
    calls RE2 directly, several times faster than building a match object. `literal` is
    set when the pattern is plain text (see `LiteralPattern`)."""

    __slots__ = ("_match", "_unanchored", "literal", "pattern", "regex")

    def __init__(self, regex: Any, pattern: str, flags: str = "") -> None:
        self.regex = regex
        self.pattern = pattern
        self._match = regex._regexp.Match
        self._unanchored = regex._regexp.Anchor.UNANCHORED
        self.literal = literal_pattern(pattern, flags)

    def found(self, text: str) -> bool:
        literal = self.literal
        if literal is not None and text.isascii():
            return literal_found(literal, text)
        return self.re2_found(text)

    def re2_found(self, text: str) -> bool:
        """The search on RE2 itself, whatever the pattern."""
        data = text.encode("utf-8", "surrogatepass")
        return bool(self._match(self._unanchored, data, 0, len(data))[0][0] != -1)

    def search(self, text: str) -> Any:
        return self.regex.search(text)

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"


def compile_regex(pattern: str, flags: str) -> Regex:
    """An RE2 regex for `~/pattern/flags`; raises ValueError if RE2 cannot run it."""
    options = re2.Options()
    options.case_sensitive = "i" not in flags
    options.posix_syntax = False
    options.dot_nl = "s" in flags
    options.log_errors = False
    prefix = "(?m)" if "m" in flags else ""
    try:
        return Regex(re2.compile(prefix + pattern, options), pattern, flags)
    except re2.error as exc:
        raise ValueError(f"regular expression RE2 cannot run: {exc}") from None
    except Exception as exc:
        raise ValueError(f"regular expression RE2 cannot run: {exc}") from None


def literal_found(literal: LiteralPattern, text: str) -> bool:
    """`literal` searched in the ASCII string `text`."""
    if literal.ignore_case:
        text = text.lower()
    anchor = literal.anchor
    if anchor == "end":
        return text.endswith(literal.text)
    if anchor == "start":
        return text.startswith(literal.text)
    if anchor == "both":
        return text == literal.text
    return literal.text in text


def clock(name: str, now: dt.datetime, tz: dt.tzinfo) -> Any:
    """`now`, `today`, `yesterday`, `tomorrow` in the evaluation's zone."""
    try:
        if name == "now":
            return now.astimezone(tz)
        today = now.astimezone(tz).date()
        if name == "today":
            return today
        return today + dt.timedelta(days=-1 if name == "yesterday" else 1)
    except (OverflowError, ValueError):
        return ErrorValue("Q305", f"'{name}' is out of the date range", NO_SPAN)


def make_map(pairs: tuple[tuple[Any, Any], ...], span: Span = NO_SPAN) -> Any:
    """A map literal; keys are converted to text, the last repeated key wins."""
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key.__class__ is ErrorValue:
            return key
        if value.__class__ is ErrorValue:  # errors never hide inside a collection
            return value
        out[key if isinstance(key, str | int) and not isinstance(key, bool)
            else values.to_text(key)] = value
    return out


def make_list(items: list[Any]) -> Any:
    """A list literal: the first error among its items if there is one (errors never hide
    inside a collection), else the list."""
    for item in items:
        if item.__class__ is ErrorValue:
            return item
    return items


def call_dynamic(function: Any, args: tuple[Any, ...], span: Span) -> Any:
    """Calling a `let` name that may not hold a function."""
    if function.__class__ is ErrorValue:
        return function
    if not callable(function) or isinstance(function, type):
        return ErrorValue("Q301", f"cannot call {values.a_kind(function)}", span)
    try:
        return function(*args)
    except TypeError:
        return ErrorValue("Q308", "missing function argument", span)


def host_call(function: Any, args: tuple[Any, ...], span: Span) -> Any:
    """A registered host function; its exceptions become error values (Q309)."""
    for arg in args:
        if arg.__class__ is ErrorValue:
            return arg
    func = getattr(function, "func", function)
    min_args = getattr(function, "min_args", None)
    max_args = getattr(function, "max_args", None)
    name = getattr(function, "name", getattr(func, "__name__", "function"))
    if min_args is not None and len(args) < min_args:
        return ErrorValue("Q308", f"'{name}' needs at least {min_args} argument(s)", span)
    if max_args is not None and len(args) > max_args:
        args = args[:max_args]
    try:
        result = func(*args)
    except RecursionError:
        return ErrorValue("Q309", f"host function '{name}' recursed too deeply", span)
    except Exception as exc:
        return ErrorValue("Q309", f"host function '{name}' failed: {type(exc).__name__}: {exc}",
                          span)
    return result


def quantify(
    kind: str,
    collection: Any,
    condition: Callable[[Any, Any], Any],
    count: Any,
    distinct: bool,
    span: Span,
) -> Any:
    """`every|some|no X in C satisfies ...`, `at least|at most|exactly N of any [distinct]`.

    `every` is an `and` over the items (vacuously true), `some` an `or`; errors in an item
    are absorbed when another item decides.
    """
    if collection.__class__ is ErrorValue:
        return collection
    if count.__class__ is ErrorValue:
        return count
    if collection is None:
        pairs: list[tuple[Any, Any]] = []
    elif isinstance(collection, Mapping):
        pairs = [(k, v) for k, v in collection.items()]
    elif values.is_list(collection):
        pairs = list(enumerate(collection))
    else:
        return ErrorValue(
            "Q301", f"cannot iterate over {values.a_kind(collection)}", span
        )
    if distinct:
        pairs = [pairs[i] for i, _ in values.unique(item for _, item in pairs)]
    error: Any = None
    if kind in ("every", "some", "no"):
        for index, item in pairs:
            result = operators.truth(condition(item, index), span)
            if kind == "every" and result is False:
                return False
            if kind != "every" and result is True:
                return kind == "some"
            if result.__class__ is ErrorValue and error is None:
                error = result
        if error is not None:
            return error
        return kind != "some"
    if count is None or not isinstance(count, int) or isinstance(count, bool):
        return ErrorValue("Q301", "a quantifier count must be an integer", span)
    matched = 0
    for index, item in pairs:
        result = operators.truth(condition(item, index), span)
        if result is True:
            matched += 1
            if kind == "at least" and matched >= count:
                return True
            if kind != "at least" and matched > count:
                return False
        elif result.__class__ is ErrorValue and error is None:
            error = result
    if error is not None:
        return error
    if kind == "at least":
        return matched >= count
    if kind == "at most":
        return matched <= count
    return matched == count


def macro(op: str, value: Any, span: Span) -> Any:
    if op == "count":
        return modifiers.count_of(value, span)
    if op == "sum":
        return modifiers.sum_of(value, span)
    if op in ("minimum", "maximum"):
        return modifiers.extreme_of(value, op == "maximum", span)
    if op == "average":
        return modifiers.average_of(value, span)
    if op in ("first", "last"):
        return modifiers.first_of(value, op == "last", span)
    if op == "keys":
        return modifiers.keys_of(value, span)
    return modifiers.values_of(value, span)


def this_period(period: str, now: dt.datetime, tz: dt.tzinfo) -> Any:
    return temporal.this_period(period, now, tz)


def not_equal(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    return predicates.negate_test(values.equal(a, b))


def equal(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    return values.equal(a, b)


def cart_items(cart: Any) -> Any:
    return access.items_of(cart)


def either_of_strings(collection: Any, wanted: frozenset[str]) -> bool:
    """A list holding one of `wanted` (all strings); the fast path of `contains either`."""
    try:
        return not wanted.isdisjoint(collection)
    except TypeError:  # unhashable elements: compare one by one
        return any(e.__class__ is str and e in wanted for e in collection)


def all_of_strings(collection: Any, wanted: frozenset[str]) -> bool:
    try:
        return wanted.issubset(collection)
    except TypeError:
        present = {e for e in collection if e.__class__ is str}
        return wanted.issubset(present)


TEST_HELPERS: dict[str, str] = {
    "greater": "_gt",
    "greater_equal": "_ge",
    "less": "_lt",
    "less_equal": "_le",
    "before": "_before",
    "after": "_after",
    "at_time": "_at",
    "starts_with": "_starts",
    "ends_with": "_ends",
    "matches": "_matches",
    "like": "_like",
    "contains": "_contains",
    "in": "_in",
    "contains_all": "_containsall",
    "contains_either": "_containseither",
    "contains_none": "_containsnone",
}

NAMESPACE: dict[str, Any] = {
    "__builtins__": {"Exception": Exception},
    "_M": MISSING,
    "_Err": ErrorValue,
    "_dict": dict,
    "_list": list,
    "_str": str,
    "_int": int,
    "_bool": bool,
    "_Decimal": Decimal,
    "_len": len,
    "_either_strs": either_of_strings,
    "_all_strs": all_of_strings,
    "_CUSTOM": "custom",
    "_dget": dict.get,
    "_FOLDED": prepared.FOLDED,
    # reads
    "_readvar": access.read_variable,
    "_readvattr": access.read_variable_attribute,
    "_readattr": access.read_attribute,
    "_miss": access.fold_miss,
    "_custom_of": access.custom_of,
    "_index": access.read_index,
    "_cartitems": cart_items,
    # logic
    "_truth": operators.truth,
    "_not": operators.logical_not,
    "_and": operators.combine_and,
    "_or": operators.combine_or,
    # arithmetic and others
    "_add": operators.add,
    "_sub": operators.subtract,
    "_mul": operators.multiply,
    "_div": operators.divide,
    "_mod": operators.modulo,
    "_pow": operators.power,
    "_neg": operators.negate,
    "_pos": operators.positive,
    "_pct": operators.percent,
    "_concat": operators.concat,
    "_range": operators.make_range,
    "_mkmap": make_map,
    "_mklist": make_list,
    # comparisons and tests
    "_eq": equal,
    "_ne": not_equal,
    "_lt": predicates.less,
    "_le": predicates.less_equal,
    "_gt": predicates.greater,
    "_ge": predicates.greater_equal,
    "_eqmode": predicates.equal_mode,
    "_between": predicates.between,
    "_before": predicates.before,
    "_after": predicates.after,
    "_at": predicates.at_time,
    "_starts": predicates.starts_with,
    "_ends": predicates.ends_with,
    "_matches": predicates.matches,
    "_like": predicates.like,
    "_contains": predicates.contains,
    "_in": predicates.is_in,
    "_containsall": predicates.contains_all,
    "_containseither": predicates.contains_either,
    "_containsnone": predicates.contains_none,
    "_defined": predicates.is_defined,
    "_empty": predicates.is_empty,
    "_negt": predicates.negate_test,
    # quantifiers, macros, modifiers, time
    "_quantify": quantify,
    "_macro": macro,
    "_this": this_period,
    "_between_units": modifiers.number_between,
    "_cast": modifiers.cast,
    "_attime": modifiers.at_time,
    "_case": modifiers.change_case,
    "_round": modifiers.round_value,
    "_dedupe": modifiers.without_duplicates,
    "_sort": modifiers.sort_values,
    "_clock": clock,
    "_criterion": criterion,
    "_calldyn": call_dynamic,
    "_hostcall": host_call,
}
