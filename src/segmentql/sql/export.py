"""`segmentql export`: a store's profiles and events written as the Parquet layout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from segmentql.sql.layout import EVENTS, PROFILES, LayoutError, Rows, write_parquet


def _progress(total: int) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(TextColumn("export"), BarColumn(), MofNCompleteColumn(),
                    console=Console(file=sys.stderr), transient=False)


def export_sqlite(path: Path, directory: Path) -> int:
    """Every profile of a SQLite `ProfileStore` as its snapshot's user/session/account/events."""
    from segmentql.state import ProfileStore

    store = ProfileStore.open(path)
    try:
        state = store.state
        user_of: dict[Any, str] = {}
        for user_id, key in state.users.items():
            user_of.setdefault(key, user_id)
        device_of: dict[Any, str] = {}
        for device, key in state.devices.items():
            device_of.setdefault(key, device)
        rows = Rows()
        keys = sorted(state.profiles)
        with _progress(len(keys)) as bar:
            task = bar.add_task("profiles", total=len(keys))
            for key in keys:
                found = user_of.get(key)
                if found is not None:
                    snapshot = store.snapshot(user_id=found)
                elif key in device_of:
                    snapshot = store.snapshot(anonymous_id=device_of[key])
                else:
                    bar.advance(task)
                    continue
                data = snapshot.to_json()
                row = {k: data.get(k) for k in ("user", "session", "account", "events")}
                rows.add(str(key), row)
                bar.advance(task)
    finally:
        store.close()
    write_parquet(rows, directory)
    return len(rows.profiles["profile_id"])


def export_postgres(url: str, directory: Path) -> int:
    """The store's two relations copied as they are."""
    import psycopg
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    try:
        with psycopg.connect(url, connect_timeout=10) as con, con.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {PROFILES}")
            (total,) = cur.fetchone() or (0,)
            rows = Rows()
            with _progress(int(total)) as bar:
                task = bar.add_task("profiles", total=int(total))
                cur.execute(
                    "SELECT profile_id, user_id, user_data::text, session_data::text, "
                    f"account_data::text, updated_at FROM {PROFILES} ORDER BY profile_id")
                for pid, uid, user, session, account, updated in cur:
                    p = rows.profiles
                    p["profile_id"].append(pid)
                    p["user_id"].append(uid)
                    p["user_data"].append(user)
                    p["session_data"].append(session)
                    p["account_data"].append(account)
                    p["updated_at"].append(updated)
                    bar.advance(task)
            cur.execute(f'SELECT profile_id, seq, type, "timestamp", event::text FROM {EVENTS} '
                        "ORDER BY profile_id, seq")
            for pid, seq, kind, ts, event in cur:
                e = rows.events
                e["profile_id"].append(pid)
                e["seq"].append(seq)
                e["type"].append(kind)
                e["timestamp"].append(ts)
                e["event"].append(event)
    except psycopg.Error as exc:
        raise LayoutError(f"cannot read the layout from PostgreSQL: {exc}") from None
    profiles, events = rows.arrow()
    pq.write_table(profiles, directory / "profiles.parquet", compression="zstd")
    pq.write_table(events, directory / "events.parquet", compression="zstd")
    _ = pa
    return len(rows.profiles["profile_id"])
