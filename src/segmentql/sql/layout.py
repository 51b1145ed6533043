"""The documented table layout (docs/sql.md) and its Parquet form.

    segmentql_profiles(profile_id text, user_id text, user_data json, session_data json,
                       account_data json, updated_at timestamptz)
    segmentql_events(profile_id text, seq bigint, type text, timestamp timestamptz, event json)

`*_data` hold the JSON form of a snapshot's `user`, `session` and `account` variables
(datetimes as ISO-8601 text); `event` is one item of the snapshot's `events` list as JSON.
`timestamp` is the event's timestamp read as the evaluator reads it (ISO text, aware or UTC;
epoch seconds or milliseconds), NULL when unreadable. In Parquet the JSON columns are UTF-8
text and the files are `profiles.parquet` and `events.parquet` in one directory.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from segmentql.errors import SegmentqlError

PROFILES = "segmentql_profiles"
EVENTS = "segmentql_events"
PROFILES_FILE = "profiles.parquet"
EVENTS_FILE = "events.parquet"
VARIABLES = {"user": "user_data", "session": "session_data", "account": "account_data"}
#: The statistics key (and typed-column prefix) of the events' `properties`.
PROPERTIES = "properties"


class LayoutError(SegmentqlError):
    """Data that the layout cannot hold (say where), or a directory that is not the layout."""


def json_text(value: Any) -> str:
    """A value in the layout's JSON form: datetimes as ISO-8601, decimals as numbers."""
    from segmentql.compiler.query import json_value

    return json.dumps(json_value(value), ensure_ascii=False, allow_nan=False)


def event_timestamp(event: Mapping[str, Any]) -> dt.datetime | None:
    from segmentql.runtime.events import _timestamp

    return _timestamp(event)


STATS_FILE = "layout.json"
_MAX_SHREDDED = 64
_EXACT = 2**53


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and value != value:
            return "other"
        return "number" if abs(value) <= _EXACT else "other"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return "strings"
    return "other"


class ColumnStats:
    """What one JSON column (`user_data`, ...) holds over the whole data set: whether every
    value is an object (or NULL), every top-level and `custom` key, and the keys whose values
    are all of one scalar kind (written as typed, "shredded" columns beside the JSON)."""

    def __init__(self) -> None:
        self.objects = True
        self.keys: set[str] = set()
        self.custom_keys: set[str] = set()
        self.custom_objects = True
        self.kinds: dict[tuple[bool, str], set[str]] = {}
        #: (in custom, key) -> (typed column name, kind), filled by `Rows.arrow()`.
        self.shredded: dict[tuple[bool, str], tuple[str, str]] = {}

    def add(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, Mapping):
            self.objects = False
            return
        for key, item in value.items():
            key = str(key)
            self.keys.add(key)
            self.kinds.setdefault((False, key), set()).add(_kind(item))
        custom = value.get("custom")
        if custom is None:
            return
        if not isinstance(custom, Mapping):
            self.custom_objects = False
            return
        for key, item in custom.items():
            key = str(key)
            self.custom_keys.add(key)
            self.kinds.setdefault((True, key), set()).add(_kind(item))

    def spellings(self, custom: bool, lowered: str) -> set[str]:
        keys = self.custom_keys if custom else self.keys
        return {k for k in keys if k.lower() == lowered}

    def to_json(self) -> dict[str, Any]:
        return {"objects": self.objects, "custom_objects": self.custom_objects,
                "keys": sorted(self.keys), "custom_keys": sorted(self.custom_keys),
                "shredded": [[c, k, name, kind] for (c, k), (name, kind) in
                             sorted(self.shredded.items())]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ColumnStats:
        stats = cls()
        stats.objects = bool(data["objects"])
        stats.custom_objects = bool(data["custom_objects"])
        stats.keys = set(data["keys"])
        stats.custom_keys = set(data["custom_keys"])
        stats.shredded = {(bool(c), str(k)): (str(n), str(t)) for c, k, n, t in data["shredded"]}
        return stats


class LayoutStats:
    """Statistics of one data set in the layout, by JSON column; exact for that data."""

    def __init__(self, columns: dict[str, ColumnStats]) -> None:
        self.columns = columns

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "columns": {k: v.to_json() for k, v in self.columns.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LayoutStats:
        if data.get("version") != 1:
            raise LayoutError(f"unknown {STATS_FILE} version {data.get('version')!r}")
        return cls({k: ColumnStats.from_json(v) for k, v in data["columns"].items()})


def read_stats(directory: Path) -> LayoutStats | None:
    """The statistics written beside the Parquet files, or None (then none are assumed)."""
    path = directory / STATS_FILE
    if not path.is_file():
        return None
    try:
        return LayoutStats.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LayoutError(f"{path}: not a layout statistics file: {exc}") from None


class Rows:
    """Column lists for the two relations, filled one profile at a time."""

    def __init__(self) -> None:
        self.stats = {column: ColumnStats() for column in (*VARIABLES.values(),
                                                           PROPERTIES)}
        self.values: dict[str, list[Any]] = {column: [] for column in (*VARIABLES.values(),
                                                                       PROPERTIES)}
        self.profiles: dict[str, list[Any]] = {
            "profile_id": [], "user_id": [], "user_data": [], "session_data": [],
            "account_data": [], "updated_at": []}
        self.events: dict[str, list[Any]] = {
            "profile_id": [], "seq": [], "type": [], "timestamp": [], "event": []}

    def add(self, profile_id: str, variables: Mapping[str, Any],
            updated_at: dt.datetime | None = None, where: str = "") -> None:
        if not isinstance(variables, Mapping):
            raise LayoutError(f"{where or profile_id}: a profile row must be a mapping of "
                              f"variables, got {type(variables).__name__}")
        known = {str(k).lower(): v for k, v in variables.items()}
        extra = sorted(set(known) - set(VARIABLES) - {"events"})
        if extra:
            raise LayoutError(f"{where or profile_id}: the layout holds user, session, "
                              f"account and events, not {', '.join(extra)}")
        user = known.get("user")
        user_id = None
        if isinstance(user, Mapping):
            raw = user.get("id")
            user_id = raw if isinstance(raw, str) else None
        p = self.profiles
        p["profile_id"].append(profile_id)
        p["user_id"].append(user_id)
        for name, column in VARIABLES.items():
            value = known.get(name)
            self.stats[column].add(value)
            self.values[column].append(value if isinstance(value, Mapping) else None)
            try:
                p[column].append(None if value is None else json_text(value))
            except (TypeError, ValueError) as exc:
                raise LayoutError(f"{where or profile_id}: {name} is not JSON data: {exc}") \
                    from None
        p["updated_at"].append(updated_at)
        events = known.get("events")
        if events is None:
            return
        if not isinstance(events, list | tuple):
            raise LayoutError(f"{where or profile_id}: events must be a list, got "
                              f"{type(events).__name__}")
        e = self.events
        for seq, event in enumerate(events):
            if not isinstance(event, Mapping):
                raise LayoutError(f"{where or profile_id}: events[{seq}] is not a mapping")
            kind = event.get("type")
            e["profile_id"].append(profile_id)
            e["seq"].append(seq)
            e["type"].append(kind if isinstance(kind, str) else None)
            e["timestamp"].append(event_timestamp(event))
            properties = event.get("properties")
            self.stats[PROPERTIES].add(properties)
            self.values[PROPERTIES].append(properties if isinstance(properties, Mapping)
                                           else None)
            try:
                e["event"].append(json_text(event))
            except (TypeError, ValueError) as exc:
                raise LayoutError(f"{where or profile_id}: events[{seq}] is not JSON data: "
                                  f"{exc}") from None

    def layout_stats(self) -> LayoutStats:
        return LayoutStats(self.stats)

    def shredded_columns(self, events: bool = False) -> dict[str, Any]:
        """Typed columns for keys of one scalar kind (recorded in the stats): the profiles'
        (or with `events`, the events' `properties`)."""
        import pyarrow as pa

        types = {"string": pa.string(), "number": pa.float64(), "boolean": pa.bool_(),
                 "strings": pa.list_(pa.string())}
        out: dict[str, Any] = {}
        for column, stats in self.stats.items():
            if (column == PROPERTIES) != events:
                continue
            stats.shredded = {}
            if not stats.objects or not stats.custom_objects:
                continue
            for (in_custom, key), kinds in sorted(stats.kinds.items()):
                scalar = kinds - {"null"}
                if len(scalar) != 1 or len(stats.shredded) >= _MAX_SHREDDED:
                    continue
                (kind,) = scalar
                if kind not in types:
                    continue
                name = f"s_{column}_{len(stats.shredded) + 1}"
                values = []
                for obj in self.values[column]:
                    source = obj.get("custom") if in_custom and obj is not None else obj
                    item = source.get(key) if isinstance(source, Mapping) else None
                    if kind == "number" and item is not None:
                        item = float(item)
                    elif kind == "strings" and item is not None:
                        item = list(item)
                    values.append(item)
                out[name] = pa.array(values, types[kind])
                stats.shredded[(in_custom, key)] = (name, kind)
        return out

    def arrow(self) -> tuple[Any, Any]:
        import pyarrow as pa

        ts = pa.timestamp("us", tz="UTC")
        profiles = pa.table({
            "profile_id": pa.array(self.profiles["profile_id"], pa.string()),
            "user_id": pa.array(self.profiles["user_id"], pa.string()),
            "user_data": pa.array(self.profiles["user_data"], pa.string()),
            "session_data": pa.array(self.profiles["session_data"], pa.string()),
            "account_data": pa.array(self.profiles["account_data"], pa.string()),
            "updated_at": pa.array(self.profiles["updated_at"], ts),
            **self.shredded_columns(),
        })
        events = pa.table({
            "profile_id": pa.array(self.events["profile_id"], pa.string()),
            "seq": pa.array(self.events["seq"], pa.int64()),
            "type": pa.array(self.events["type"], pa.string()),
            "timestamp": pa.array(self.events["timestamp"], ts),
            "event": pa.array(self.events["event"], pa.string()),
            **self.shredded_columns(events=True),
        })
        return profiles, events


def rows_of(variables: Iterable[Mapping[str, Any]], *, width: int = 9) -> Rows:
    """The layout of a list of variable mappings; profile ids are zero-padded row numbers."""
    rows = Rows()
    for index, row in enumerate(variables):
        rows.add(f"{index:0{width}d}", row, where=f"row {index}")
    return rows


def write_parquet(rows: Rows, directory: Path) -> None:
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    profiles, events = rows.arrow()
    pq.write_table(profiles, directory / PROFILES_FILE, compression="zstd")
    pq.write_table(events, directory / EVENTS_FILE, compression="zstd")
    (directory / STATS_FILE).write_text(json.dumps(rows.layout_stats().to_json()),
                                        encoding="utf-8")


def check_directory(directory: Path) -> tuple[Path, Path]:
    profiles, events = directory / PROFILES_FILE, directory / EVENTS_FILE
    for path in (profiles, events):
        if not path.is_file():
            raise LayoutError(f"{directory}: no {path.name} (write the layout with "
                              "`segmentql export --store STORE --to DIR`)")
    return profiles, events
