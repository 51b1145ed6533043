"""Prepared variables: the per-call checks of attribute reads done once, up front.

Reading `V's name` from a plain dict costs the generated code two checks per context variable
(is `V` a plain dict, and does it hold `custom` attributes that would shadow its own keys?)
and, when the name is absent, a pass over `V`'s keys for a spelling that differs in case only.
A `Prepared` mapping does that work once, when it is built, so that many queries can read it:
for each context variable that is a plain dict it keeps a **view**, a plain dict in which

- `custom` attributes are already resolved in front of `V`'s own keys (spec §3), so the view
  has no `custom` key and the fast path of the generated code applies to it;
- every attribute is present under its stored spelling and under its lower-cased name, with
  the value `V's name` resolves to for any spelling of that name (the case of a name never
  changes the result), so reading it is one dict lookup;
- the key `FOLDED` marks the view as complete: a lower-cased name it lacks is absent in every
  case, so a miss needs no search of the keys; it holds the value as given, which
  whole-variable reads (`user is empty`, `user's custom`) use instead of the view.

A variable gets no view (and is read from the caller's value, as from a plain dict) when it is
not a plain dict, or when one of its mappings holds two names that differ only in case (then
which one a name reads depends on the name's exact case). Virtual attributes (`age`, `name`,
`page`'s `query`) are not stored: they depend on the evaluation's clock and are derived from
the view on a miss, as from a plain dict.

Two forms carry views. `prepare(variables)` returns a plain `dict` whose values are the views
(CPython's fast paths for `dict.get` apply to exact dicts only, so this is the fastest form).
A `Prepared` (what store snapshots are) keeps the views in its own `dict` storage, which the
generated code reads with `dict.get`, while its `Mapping` face (`[]`, `get`, iteration,
`items`, `==`, `repr`) is the variables exactly as given; it is read-only. Whole-variable reads
are compiled to take the general path, which reads the value as given.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, NoReturn

from segmentql.runtime.errors import MISSING

#: The key marking a complete view. A string (a dict whose keys are all strings is looked up
#: faster) that no attribute name can be: names never hold NUL, and reading a variable by
#: index (`user["..."]`) reads the value as given, not its view.
FOLDED = "\x00segmentql-view"


#: The attribute name that is never put in a view: reading it takes the general path.
CUSTOM = "custom"


def view_of(target: Any) -> dict[Any, Any] | None:
    """The view of a context variable's value (see the module docstring), or None when the
    value is not a plain dict or a name in it is ambiguous ignoring case."""
    if target.__class__ is not dict or FOLDED in target:
        return None
    own = _by_lowered(target)
    if own is None:
        return None
    custom = target.get(CUSTOM)
    shadow = _by_lowered(custom) if isinstance(custom, Mapping) and custom else {}
    if shadow is None:
        return None
    # spec §3: a non-null custom value, else the variable's own key (null included); a name
    # only null in custom and absent from the variable stays absent (virtual attributes)
    resolved = {lowered: value for lowered, (_, value) in own.items()}
    for lowered, (_, value) in shadow.items():
        if value is not None:
            resolved[lowered] = value
    view: dict[Any, Any] = {}
    for table in (own, shadow):
        for lowered, (spellings, _) in table.items():
            if lowered in resolved:
                value = resolved[lowered]
                for spelling in spellings:
                    view[spelling] = value
    view.update(resolved)
    view[FOLDED] = target  # the value as given, for whole-variable reads
    return view


def _by_lowered(mapping: Mapping[Any, Any]) -> dict[str, tuple[tuple[str, ...], Any]] | None:
    """Lower-cased name -> (its spelling, its value) for the string keys of `mapping`, but
    `custom`; None when two keys differ only in case."""
    table: dict[str, tuple[tuple[str, ...], Any]] = {}
    for key, value in mapping.items():
        if key.__class__ is not str:
            continue
        lowered = key.lower()
        if lowered in table:
            return None
        if lowered != CUSTOM:
            table[lowered] = ((key,), value)
    return table


class Prepared(dict):  # type: ignore[type-arg]
    """Variables prepared for many evaluations (see the module docstring).

    `Prepared(variables)` takes any mapping of variable names; `lazy` maps names to functions
    building a variable on first access (the store's `events`)."""

    __slots__ = ("_lazy", "_variables")

    def __init__(
        self, variables: Mapping[str, Any], lazy: dict[str, Callable[[], Any]] | None = None
    ) -> None:
        super().__init__()
        self._variables: dict[str, Any] = dict(variables)
        self._lazy = lazy or {}
        for name, value in self._variables.items():
            self._store_view(name, value)

    # the Mapping face: the variables as given ------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        try:
            return self._variables[name]
        except KeyError:
            builder = self._lazy.get(name)
            if builder is None:
                raise
            value = self._variables.setdefault(name, builder())
            self._store_view(name, value)
            return value

    def _store_view(self, name: str, value: Any) -> None:
        view = view_of(value)
        dict.__setitem__(self, name, value if view is None else view)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        self._build_all()
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables) + sum(1 for n in self._lazy if n not in self._variables)

    def __contains__(self, name: object) -> bool:
        return name in self._variables or name in self._lazy

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self._build_all()
        return self._variables.keys()

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        self._build_all()
        return self._variables.values()

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        self._build_all()
        return self._variables.items()

    def __eq__(self, other: object) -> bool:
        self._build_all()
        if isinstance(other, Prepared):
            other._build_all()
            return self._variables == other._variables
        return self._variables == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __repr__(self) -> str:
        self._build_all()
        return f"{type(self).__name__}({self._variables!r})"

    def copy(self) -> dict[str, Any]:
        """A plain dict of the variables as given."""
        self._build_all()
        return dict(self._variables)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.copy(),))

    def _build_all(self) -> None:
        for name in self._lazy:
            self[name]

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only")

    __setitem__ = __delitem__ = _read_only
    update = pop = popitem = clear = setdefault = _read_only


#: Where `prepare` keeps a `Prepared` whose lazy variables were not built yet.
LAZY = "\x00lazy"


def prepare(variables: Mapping[str, Any]) -> dict[str, Any]:
    """`variables` in evaluation form, for many evaluations: a plain `dict` of the same
    variables in which each plain-dict variable is its view. It is an input for queries, not
    a mapping to read: every query gives the same results on it as on `variables`. Build it
    once per request and pass it to `Query.matches`, `AudienceSet.evaluate`, etc. (It is a
    plain dict because CPython's fast paths for `dict.get` apply to exact dicts only.)"""
    out: dict[str, Any] = {}
    if isinstance(variables, Prepared):
        items = list(dict.items(variables))
        if any(name not in variables._variables for name in variables._lazy):
            out[LAZY] = variables
    else:
        items = list(variables.items())
    for name, value in items:
        if name == LAZY or is_view(value):  # prepared already
            out[name] = value
            continue
        view = view_of(value)
        out[name] = value if view is None else view
    return out


def lazy_variable(variables: Mapping[Any, Any], name: str) -> Any:
    """A variable missing from `prepare`'s form of a `Prepared` that had not built it yet
    (the store's `events`), or MISSING."""
    lazy = variables.get(LAZY)
    if isinstance(lazy, Prepared):
        return lazy.get(name, MISSING)
    return MISSING


def original(value: Any) -> Any:
    """The value as given, for a view; any other value unchanged."""
    if value.__class__ is dict:
        given = value.get(FOLDED, MISSING)
        if given is not MISSING:
            return given
    return value


def is_view(value: Any) -> bool:
    """`value` is a view built here (for tests and explanations)."""
    return value.__class__ is dict and FOLDED in value


__all__ = [
    "FOLDED", "LAZY", "MISSING", "Prepared", "is_view", "lazy_variable", "original", "prepare",
    "view_of",
]
