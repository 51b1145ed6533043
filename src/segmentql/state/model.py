"""The immutable state: profiles, sessions, tracked events, identifiers, groups.

Records are frozen dataclasses; collections are pyrsistent (`PMap`, `PVector`, `PSet`), so
applying an event builds a new `State` that shares everything it did not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pyrsistent import PMap, PSet, PVector, pmap, pset, pvector

T = TypeVar("T")

#: Standard user attributes (spec §3), canonical spelling by case-folded name.
STANDARD_USER_ATTRIBUTES: dict[str, str] = {
    name.casefold(): name
    for name in (
        "firstName",
        "lastName",
        "name",
        "birthDate",
        "age",
        "gender",
        "email",
        "alternateEmail",
        "phone",
        "alternatePhone",
        "address",
        "avatar",
        "company",
        "companyUrl",
        "jobTitle",
        "interests",
        "activities",
    )
}

#: User attributes managed by the store (identify and tracking), never patched.
READ_ONLY_USER_ATTRIBUTES = frozenset({"id", "stats"})

#: Session attributes managed by the store; a patch of any other name (even `landingPage`)
#: writes a custom session attribute, which shadows the predefined one.
READ_ONLY_SESSION_ATTRIBUTES = frozenset({"id"})

#: Tracked event types that count in the stats.
PAGEVIEW_EVENT = "pageOpened"
ORDER_EVENT = "orderPlaced"

def empty_stats() -> dict[str, int]:
    """A new stats map. Stats maps are never changed in place: an update builds a new one."""
    return {"sessions": 0, "pageviews": 0, "orders": 0}


_EVOLVERS: dict[type, Any] = {}


def evolve(record: T, **changes: Any) -> T:
    """`dataclasses.replace` for the frozen slotted records here, without its overhead."""
    cls = type(record)
    build = _EVOLVERS.get(cls)
    if build is None:
        build = _EVOLVERS[cls] = _evolver(cls)
    new: T = build(record, changes)
    return new


def _evolver(cls: type) -> Any:
    """A function `(record, changes) -> copy` for the slotted dataclass `cls`, generated
    (as `dataclasses` generates `__init__`) to set each slot through its descriptor in
    straight-line code: no frozen `__setattr__`, no loop over the field names."""
    names = tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    scope: dict[str, Any] = {"_cls": cls, "_new": object.__new__, "_known": frozenset(names)}
    lines = [
        "def build(record, changes):",
        "    if not changes.keys() <= _known:",
        "        unknown = sorted(set(changes) - _known)",
        f"        raise TypeError('{cls.__name__} has no field ' + repr(unknown[0]))",
        "    new = _new(_cls)",
    ]
    for n, name in enumerate(names):
        slot = cls.__dict__[name]
        scope[f"_set{n}"], scope[f"_get{n}"] = slot.__set__, slot.__get__
        lines.append(
            f"    _set{n}(new, changes[{name!r}] if {name!r} in changes else _get{n}(record))"
        )
    lines.append("    return new")
    exec("\n".join(lines), scope)  # the source is built above from field names only
    return scope["build"]


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """One tracked event of a profile; `seq` is its arrival number across the store."""

    seq: int
    type: str
    timestamp: str  # ISO-8601, as snapshots show it
    session_id: str | None
    #: The properties as plain JSON, never mutated and never handed out (snapshots copy it).
    plain: Any
    #: True when no property holds a map or list, so a shallow copy is a full copy.
    flat: bool = field(default=False, compare=False, repr=False)

    @property
    def properties(self) -> PMap[str, Any]:
        """The properties as a frozen map (built on demand: events read back from a
        database are decoded without freezing)."""
        from segmentql.state.values import freeze

        frozen: PMap[str, Any] = freeze(self.plain)
        return frozen


@dataclass(frozen=True, slots=True)
class Session:
    """A visit: started at `start`, last active at `last_activity`."""

    id: str
    start: datetime
    last_activity: datetime
    pageviews: int = 0
    orders: int = 0
    landing_page: str | None = None
    referrer: str | None = None
    custom: PMap[str, Any] = field(default_factory=pmap)
    ended: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    """A person: anonymous (`user_id` None) or identified."""

    key: str
    user_id: str | None = None
    attributes: PMap[str, Any] = field(default_factory=lambda: pmap({"custom": pmap()}))
    anonymous_ids: PVector[Any] = field(default_factory=pvector)
    aliases: PVector[Any] = field(default_factory=pvector)
    #: Counters of every event ever applied (never trimmed); a plain dict never changed in place.
    stats: dict[str, int] = field(default_factory=empty_stats)
    events: PVector[Any] = field(default_factory=pvector)
    session: Session | None = None
    groups: PVector[Any] = field(default_factory=pvector)
    merges: int = 0


@dataclass(frozen=True, slots=True)
class State:
    """Everything the store knows. `counter` numbers new profiles, sessions and events."""

    profiles: PMap[str, Any] = field(default_factory=pmap)
    devices: PMap[str, Any] = field(default_factory=pmap)
    users: PMap[str, Any] = field(default_factory=pmap)
    groups: PMap[str, Any] = field(default_factory=pmap)
    messages: PSet[bytes] = field(default_factory=pset)
    suppressed: PSet[bytes] = field(default_factory=pset)
    counter: int = 0


def describe_state(state: State) -> dict[str, Any]:
    """Counts for humans (`repr` of a store)."""
    return {
        "profiles": len(state.profiles),
        "devices": len(state.devices),
        "users": len(state.users),
        "groups": len(state.groups),
    }
