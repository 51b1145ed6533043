"""Load the conformance corpus and decode its typed values (shared by the two test modules).

The corpus is plain YAML read with JSON-like scalar rules: `2024-01-01` stays a string (no
YAML timestamps), only `true`/`false` are booleans (no `yes`/`no`), `12:30` stays a string (no
sexagesimal numbers). Values that JSON cannot express carry a one-key tag such as
`{$decimal: "0.3"}`; see README.md for the list and how each is compared.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).parent / "cases"

CASE_KEYS = frozenset(
    {"name", "query", "variables", "now", "time_zone", "expected", "error", "source", "note",
     "expect"}
)
ERROR_KEYS = frozenset({"phase", "code"})
PHASES = frozenset({"compile", "evaluate"})
TAGS = frozenset({"$decimal", "$float", "$number", "$date", "$time", "$datetime"})


class _Loader(yaml.SafeLoader):
    """SafeLoader with JSON-like implicit scalars (see the module docstring)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool",
                           "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)$"),
    list("-0123456789"),
)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    return float(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


@dataclass(frozen=True)
class Case:
    """One corpus case: `file` is the YAML file's stem, `data` the mapping as written."""

    file: str
    data: Mapping[str, Any] = field(repr=False)

    @property
    def id(self) -> str:
        return f"{self.file}::{self.data.get('name')}"


def load_file(path: Path) -> list[Case]:
    """All cases of one YAML file (a top-level list of mappings)."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_Loader)  # a SafeLoader subclass
    if not isinstance(document, list):
        raise ValueError(f"{path.name}: the top level must be a list of cases")
    return [Case(path.stem, item) for item in document]


def load_all() -> list[Case]:
    """Every case of every `cases/*.yaml` file, files in name order."""
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases.extend(load_file(path))
    return cases


# --- typed values ------------------------------------------------------------------------


def tag_of(value: object) -> str | None:
    """The tag of a tagged value (`{"$decimal": "1.5"}` → `"$decimal"`), else None."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if isinstance(key, str) and key.startswith("$"):
            return key
    return None


def parse_datetime(text: str) -> dt.datetime:
    """An ISO-8601 date-time with an offset (`Z` allowed); naive values are rejected."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"date-time without an offset: {text!r}")
    return value


def decode(value: object) -> object:
    """The Python value an expected value stands for (tags decoded, recursively)."""
    tag = tag_of(value)
    if tag is not None:
        assert isinstance(value, dict)
        raw = value[tag]
        if tag == "$decimal":
            return decimal.Decimal(str(raw))
        if tag == "$float":
            return float(raw)
        if tag == "$number":
            return _Number(decimal.Decimal(str(raw)))
        if tag == "$date":
            return dt.date.fromisoformat(str(raw))
        if tag == "$time":
            return dt.time.fromisoformat(str(raw))
        if tag == "$datetime":
            return parse_datetime(str(raw))
        raise ValueError(f"unknown tag {tag}")
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, float):
        raise ValueError("untagged float in an expected value; write {$float: ...} or {$decimal: ...}")
    return value


@dataclass(frozen=True)
class _Number:
    """`$number`: any numeric kind (int, Decimal, float; never bool) with this value."""

    value: decimal.Decimal


def _as_decimal(number: int | float | decimal.Decimal) -> decimal.Decimal:
    # A float counts at its shortest decimal form, as the language compares numbers.
    return decimal.Decimal(repr(number)) if isinstance(number, float) else decimal.Decimal(number)


def mismatch(expected: object, actual: object, where: str = "result") -> str | None:
    """Why `actual` does not conform to the decoded `expected`, or None if it does."""
    def fail(why: str) -> str:
        return f"{where}: expected {expected!r}, got {actual!r} ({why})"

    if expected is None or isinstance(expected, bool):
        return None if actual is expected else fail("identity")
    if isinstance(expected, _Number):
        if isinstance(actual, bool) or not isinstance(actual, int | float | decimal.Decimal):
            return fail("not a number")
        if isinstance(actual, float) and not math.isfinite(actual):
            return fail("not finite")
        return None if _as_decimal(actual) == expected.value else fail("value")
    if isinstance(expected, int):
        if isinstance(actual, bool) or not isinstance(actual, int):
            return fail("kind: integer expected")
        return None if actual == expected else fail("value")
    if isinstance(expected, decimal.Decimal):
        if not isinstance(actual, decimal.Decimal):
            return fail("kind: decimal expected")
        return None if actual == expected else fail("value")
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return fail("kind: float expected")
        same = actual == expected or (math.isnan(actual) and math.isnan(expected))
        return None if same else fail("value")
    if isinstance(expected, str):
        return None if isinstance(actual, str) and actual == expected else fail("string")
    if isinstance(expected, dt.datetime):
        if not isinstance(actual, dt.datetime) or actual.tzinfo is None:
            return fail("kind: aware datetime expected")
        # Compare in UTC: Python never finds a gap/fold wall time equal across zones (PEP 495).
        same = actual.astimezone(dt.UTC) == expected.astimezone(dt.UTC)
        return None if same else fail("instant")
    if isinstance(expected, dt.date):
        if isinstance(actual, dt.datetime) or not isinstance(actual, dt.date):
            return fail("kind: date expected")
        return None if actual == expected else fail("value")
    if isinstance(expected, dt.time):
        if not isinstance(actual, dt.time):
            return fail("kind: time expected")
        return None if actual.replace(tzinfo=None) == expected else fail("value")
    if isinstance(expected, list):
        if not isinstance(actual, list | tuple):
            return fail("kind: list expected")
        if len(actual) != len(expected):
            return fail("length")
        for index, (exp, act) in enumerate(zip(expected, actual, strict=True)):
            why = mismatch(exp, act, f"{where}[{index}]")
            if why:
                return why
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, Mapping):
            return fail("kind: map expected")
        if list(actual.keys()) != list(expected.keys()):
            return fail("keys (in order)")
        for key, exp in expected.items():
            why = mismatch(exp, actual[key], f"{where}[{key!r}]")
            if why:
                return why
        return None
    return fail("unsupported expected value")


def validate(case: Case) -> list[str]:
    """Problems with the shape of one case (empty when it is well-formed)."""
    data = case.data
    problems: list[str] = []
    if not isinstance(data, Mapping):
        return [f"{case.file}: a case is not a mapping: {data!r}"]
    unknown = set(data) - CASE_KEYS
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.\-]*", name):
        problems.append(f"name must be a lower-case slug, got {name!r}")
    if not isinstance(data.get("query"), str):
        problems.append("query must be a string")
    if ("expected" in data) == ("error" in data):
        problems.append("exactly one of 'expected' and 'error' is required")
    if "expected" in data:
        try:
            _check_tags(data["expected"])
            decode(data["expected"])
        except (ValueError, TypeError, decimal.InvalidOperation) as exc:
            problems.append(f"bad expected value: {exc}")
    if "error" in data:
        error = data["error"]
        if not isinstance(error, Mapping) or set(error) - ERROR_KEYS:
            problems.append(f"error must be a mapping of {sorted(ERROR_KEYS)}")
        else:
            if error.get("phase") not in PHASES:
                problems.append(f"error phase must be one of {sorted(PHASES)}")
            code = error.get("code")
            if code is not None and not (isinstance(code, str) and re.fullmatch(r"Q\d{3}", code)):
                problems.append(f"bad error code {code!r}")
    if "variables" in data and not isinstance(data["variables"], Mapping):
        problems.append("variables must be a mapping")
    if "now" in data:
        try:
            parse_datetime(str(data["now"]))
        except ValueError as exc:
            problems.append(f"bad now: {exc}")
    if "time_zone" in data and not isinstance(data["time_zone"], str):
        problems.append("time_zone must be an IANA name")
    if "expect" in data and data["expect"] != "boolean":
        problems.append("expect may only be 'boolean'")
    for key in ("source", "note"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key} must be a string")
    if _time_dependent(data) and "now" not in data:
        problems.append("time-dependent case without 'now'")
    return problems


def _check_tags(value: object) -> None:
    tag = tag_of(value)
    if tag is not None:
        if tag not in TAGS:
            raise ValueError(f"unknown tag {tag}")
        raw = value[tag]  # type: ignore[index]
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise ValueError(f"{tag} takes a string or number")
        if tag == "$float" and not isinstance(raw, int | float):
            raise ValueError("$float takes a number")
        if tag in ("$decimal", "$number") and not isinstance(raw, str):
            raise ValueError(f"{tag} takes its digits as a string")
        return
    if isinstance(value, list):
        for item in value:
            _check_tags(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_tags(item)


_CLOCK_WORDS = re.compile(
    r"\b(now|today|yesterday|tomorrow|this\s+(week|month|year|session)|last\s+(week|month|year)"
    r"|in\s+(the\s+)?last|age|user\s+has)\b",
    re.IGNORECASE,
)


def _time_dependent(data: Mapping[str, Any]) -> bool:
    query = data.get("query")
    variables = data.get("variables") or {}
    return bool(
        (isinstance(query, str) and _CLOCK_WORDS.search(query)) or "events" in variables
    )
