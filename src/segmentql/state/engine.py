"""Applying events to a `State`: identity resolution, patches, sessions, groups, deletion.

`Engine.apply_batch` is a pure function of (state, events, clock): it returns a new state and
never changes the old one. An invalid event raises (a `StateError` carrying the event's index),
so a batch applies whole or not at all.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pyrsistent import PMap, PVector, pmap, pvector

from segmentql.state.backend import (
    Changes,
    MarkSet,
    Overlay,
    ReadView,
    StateView,
    apply_changes,
)
from segmentql.state.errors import (
    InvalidEventError,
    InvalidIdentifierError,
    MergeRefusedError,
    PatchError,
    StateError,
)
from segmentql.state.events import (
    VALUELESS_OPERATIONS,
    Alias,
    Anonymize,
    DeleteUser,
    EventBase,
    Group,
    Identify,
    Merge,
    Patch,
    Track,
    Unsuppress,
)
from segmentql.state.model import (
    ORDER_EVENT,
    PAGEVIEW_EVENT,
    READ_ONLY_SESSION_ATTRIBUTES,
    READ_ONLY_USER_ATTRIBUTES,
    STANDARD_USER_ATTRIBUTES,
    Profile,
    Session,
    State,
    TrackedEvent,
    evolve,
)
from segmentql.state.operations import (
    OPERATIONS,
    TOLERANT_OPERATIONS,
    OperationFailed,
    Segment,
    apply_operation,
    parse_path,
)
from segmentql.state.policy import StatePolicy
from segmentql.state.values import MISSING, copy_flat, find_key, freeze, json_problem, thaw

Clock = Callable[[], datetime]

_SCALARS = frozenset({str, int, float, bool, type(None)})
#: Operations whose argument is not a stored value (`apply_operation` skips its JSON check).
_NO_VALUE = frozenset({"unset", "clear", "increment", "decrement"})

#: Entries kept in each of the engine's caches before they start over.
_CACHE_LIMIT = 100_000

#: Tracked event types queries read by their own phrase (`docs/language.md`); a `track` of
#: any other name is stored as `eventOccurred` with the name in its `name` property.
CUSTOM_EVENT = "eventOccurred"
KNOWN_EVENTS = frozenset(
    {
        "cartAbandoned",
        "productAbandoned",
        "productViewed",
        "orderPlaced",
        "campaignViewed",
        "pageOpened",
        "postViewed",
        "linkOpened",
        "interestShown",
        "eventOccurred",
        "goalCompleted",
        "userSignedIn",
        "userSignedUp",
    }
)


class SchemaTypeLike(Protocol):
    """What the engine needs of `segmentql.schema.SchemaType`."""

    def accepts(self, value: object) -> bool: ...

    def describe(self) -> str: ...


class SchemaLike(Protocol):
    """What the engine needs of `segmentql.schema.Schema`."""

    def type_at(self, variable: str, path: Sequence[str]) -> Any: ...


@dataclass(frozen=True, slots=True)
class Dropped:
    """An event that was not applied, by design: a repeated message id or a suppressed id."""

    index: int
    event_type: str
    reason: Literal["duplicate", "suppressed"]
    message: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the caller should know about an applied event (a limit reached, a device
    switching users, a no-op); never silent, never an error."""

    index: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What `ProfileStore.apply` did with a batch."""

    applied: int
    dropped: tuple[Dropped, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def total(self) -> int:
        """Events received: applied plus dropped."""
        return self.applied + len(self.dropped)


def digest(kind: str, identifier: str) -> bytes:
    """How message ids and suppressed ids are remembered: a SHA-256 digest, never the text."""
    return hashlib.sha256(f"{kind}\x00{identifier}".encode()).digest()[:16]


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class Engine:
    """Applies events under a `StatePolicy`, optionally checking patches against a schema."""

    def __init__(self, policy: StatePolicy | None = None, schema: SchemaLike | None = None):
        self.policy = policy or StatePolicy()
        self.schema = schema
        #: Identifiers the policy accepts (it is immutable), and schema types by path.
        self.accepted_ids: set[str] = set()
        self.schema_types: dict[tuple[str, tuple[str, ...]], Any] = {}
        #: Whether a schema type (by id; the types live as long as the schema) takes any value.
        self.accepts_any: dict[int, bool] = {}

    def type_at(self, variable: str, path: tuple[str, ...]) -> Any:
        """`schema.type_at`, remembered (the schema is immutable)."""
        key = (variable, path)
        cache = self.schema_types
        try:
            return cache[key]
        except KeyError:
            pass
        assert self.schema is not None
        found = self.schema.type_at(variable, list(path))
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = found
        return found

    def apply_batch(
        self, state: State, events: Sequence[EventBase], clock: Clock = utc_now
    ) -> tuple[State, ApplyResult, Changes]:
        """The state after `events` in order, what happened, and what changed (pure: `state`
        is not modified)."""
        changes, result = self.fold(StateView(state), events, clock)
        return apply_changes(state, changes), result, changes

    def fold(
        self, view: ReadView, events: Sequence[EventBase], clock: Clock = utc_now
    ) -> tuple[Changes, ApplyResult]:
        """What `events` change, reading only the profiles and links they touch from `view`."""
        work = _Work(self, view)
        applied = 0
        for index, event in enumerate(events):
            work.index = index
            try:
                if work.apply(event, clock):
                    applied += 1
            except StateError as exc:
                raise exc.at_index(index) from None
        result = ApplyResult(applied, tuple(work.dropped), tuple(work.notices))
        return work.changes(), result


class _Work:
    """The state being built by one batch (plain attributes over pyrsistent values)."""

    def __init__(self, engine: Engine, view: ReadView) -> None:
        self.engine = engine
        self.policy = engine.policy
        self.schema = engine.schema
        self.profiles: Overlay[str, Profile] = Overlay(view.profile)
        self.devices: Overlay[str, str] = Overlay(view.device)
        self.users: Overlay[str, str] = Overlay(view.user)
        self.groups: Overlay[str, PMap[str, Any]] = Overlay(view.group)
        self.messages = MarkSet(view.message_seen, lambda: False)
        self.suppressed = MarkSet(view.suppressed, view.any_suppressed)
        self.counter = view.counter
        self.deleted_user = False
        self.dropped: list[Dropped] = []
        self.notices: list[Notice] = []
        self.index = 0

    def changes(self) -> Changes:
        profiles = self.profiles.changes()
        originals = self.profiles.originals
        return Changes(
            profiles=profiles,
            before={key: originals.get(key) for key in profiles},
            devices=self.devices.changes(),
            users=self.users.changes(),
            groups={k: v for k, v in self.groups.changes().items() if v is not None},
            messages={d for d, on in self.messages.changes.items() if on},
            suppressed=dict(self.suppressed.changes),
            counter=self.counter,
            deleted_user=self.deleted_user,
        )

    def notice(self, kind: str, message: str) -> None:
        self.notices.append(Notice(self.index, kind, message))

    # --- dispatch ---------------------------------------------------------------------------

    def apply(self, event: EventBase, clock: Clock) -> bool:
        kind = getattr(event, "type", type(event).__name__)
        message_digest = None
        if event.message_id is not None:
            message_digest = digest("message", event.message_id)
            if message_digest in self.messages:
                self.dropped.append(
                    Dropped(
                        self.index,
                        kind,
                        "duplicate",
                        f"message id {event.message_id!r} was already applied",
                    )
                )
                return False
        if not isinstance(event, (DeleteUser, Unsuppress)):
            suppressed = self._suppressed_id(event)
            if suppressed is not None:
                self.dropped.append(
                    Dropped(self.index, kind, "suppressed", f"{suppressed} is suppressed")
                )
                return False
        at = event.timestamp or clock()
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if isinstance(event, Identify):
            self.identify(event, at)
        elif isinstance(event, Anonymize):
            self.anonymize(event, at)
        elif isinstance(event, Patch):
            self.patch(event, at)
        elif isinstance(event, Track):
            self.track(event, at)
        elif isinstance(event, Group):
            self.group(event, at)
        elif isinstance(event, Merge):
            self.merge(event)
        elif isinstance(event, DeleteUser):
            self.delete(event)
        elif isinstance(event, Unsuppress):
            self.unsuppress(event)
        elif isinstance(event, Alias):
            self.alias(event, at)
        else:  # pragma: no cover - parse_event only builds the types above
            raise InvalidEventError(f"unknown event {event!r}")
        if message_digest is not None:
            self.messages.add(message_digest)
        return True

    def _suppressed_id(self, event: EventBase) -> str | None:
        if not self.suppressed:
            return None
        for field_name, kind in (
            ("user_id", "user"),
            ("anonymous_id", "anonymous"),
            ("from_user_id", "user"),
            ("into_user_id", "user"),
            ("previous_id", "user"),
            ("previous_id", "anonymous"),
        ):
            value = getattr(event, field_name, None)
            if value is not None and digest(kind, value) in self.suppressed:
                return f"{field_name.replace('_', ' ')} {value!r}"
        return None

    # --- identifiers and profiles -------------------------------------------------------------

    def check_id(self, kind: str, value: str) -> None:
        accepted = self.engine.accepted_ids
        if value in accepted:
            return
        reason = self.policy.blocked_reason(value)
        if reason is not None:
            raise InvalidIdentifierError(kind, value, reason)
        if len(accepted) >= _CACHE_LIMIT:
            accepted.clear()
        accepted.add(value)

    def new_key(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def put(self, profile: Profile) -> Profile:
        self.profiles.set(profile.key, profile)
        return profile

    def drop(self, key: str) -> None:
        self.profiles.discard(key)

    def map_device(self, anonymous_id: str, key: str | None) -> None:
        if key is None:
            self.devices.discard(anonymous_id)
        else:
            self.devices.set(anonymous_id, key)

    def map_user(self, user_id: str, key: str | None) -> None:
        if key is None:
            self.users.discard(user_id)
        else:
            self.users.set(user_id, key)

    def device_profile(self, anonymous_id: str) -> Profile:
        key = self.devices.get(anonymous_id)
        if key is not None:
            profile: Profile = self.profiles[key]
            return profile
        profile = Profile(self.new_key("profile"), anonymous_ids=pvector([anonymous_id]))
        self.map_device(anonymous_id, profile.key)
        return self.put(profile)

    def user_profile(self, user_id: str) -> Profile:
        key = self.users.get(user_id)
        if key is not None:
            profile: Profile = self.profiles[key]
            return profile
        profile = Profile(self.new_key("profile"), user_id=user_id)
        self.map_user(user_id, profile.key)
        return self.put(profile)

    def resolve(self, event: Patch | Track | Group) -> Profile:
        if event.user_id is None and event.anonymous_id is None:
            raise InvalidEventError(f"a {event.type} event needs an anonymous_id or a user_id")
        if event.anonymous_id is not None:
            self.check_id("anonymous id", event.anonymous_id)
        if event.user_id is not None:
            self.check_id("user id", event.user_id)
            return self.user_profile(event.user_id)
        assert event.anonymous_id is not None
        return self.device_profile(event.anonymous_id)

    # --- sessions -------------------------------------------------------------------------------

    def touch(self, profile: Profile, at: datetime) -> Profile:
        """`profile` with activity at `at`: its session continues, or a new one starts."""
        session, stats = self.active_session(profile, at)
        if session is profile.session:
            return profile
        return evolve(profile, session=session, stats=stats)

    def active_session(self, profile: Profile, at: datetime) -> tuple[Session, dict[str, int]]:
        """The session activity at `at` belongs to (a new one after the timeout, the maximum
        length, or an ended session), and the user stats counting it."""
        session = profile.session
        policy = self.policy
        if (
            session is None
            or session.ended
            or at - session.last_activity >= policy.session_timeout
            or (
                policy.session_max_length is not None
                and at - session.start >= policy.session_max_length
            )
        ):
            session = Session(self.new_key("session"), start=at, last_activity=at)
            stats = profile.stats
            return session, {**stats, "sessions": stats.get("sessions", 0) + 1}
        if at > session.last_activity:
            session = evolve(session, last_activity=at)
        return session, profile.stats

    @staticmethod
    def end_session(profile: Profile) -> Profile:
        if profile.session is None or profile.session.ended:
            return profile
        return evolve(profile, session=evolve(profile.session, ended=True))

    def record(
        self,
        profile: Profile,
        event_type: str,
        at: datetime,
        properties: dict[str, Any],
        **changes: Any,
    ) -> Profile:
        """`profile` with a tracked event appended (oldest dropped beyond the limit), and
        `changes` to its other fields made in the same step."""
        self.counter += 1
        session = changes.get("session", profile.session)
        session_id = session.id if session is not None else None
        plain, flat = copy_flat(properties)
        tracked = TrackedEvent(self.counter, event_type, at.isoformat(), session_id, plain, flat)
        events: PVector[Any] = profile.events.append(tracked)
        limit = self.policy.max_events_per_profile
        # Trimmed in steps (an eighth of the limit at a time) so that a full profile does not
        # copy its whole event vector on every event; snapshots show the last `limit`.
        if len(events) > limit + max(1, limit // 8):
            dropped = len(events) - limit
            events = events[dropped:]
            self.notice(
                "events-trimmed",
                f"profile keeps its last {limit} events (max_events_per_profile); the "
                f"{dropped} oldest were dropped, stats still count them",
            )
        return evolve(profile, events=events, **changes)

    # --- events -----------------------------------------------------------------------------------

    def identify(self, event: Identify, at: datetime) -> None:
        user_id = event.user_id
        self.check_id("user id", user_id)
        if event.anonymous_id is None:
            profile = self.touch(self.user_profile(user_id), at)
            self.put(self.apply_traits(profile, event.traits))
            return
        anonymous_id = event.anonymous_id
        self.check_id("anonymous id", anonymous_id)
        current = self.device_profile(anonymous_id)
        if current.user_id == user_id or self.users.get(user_id) == current.key:
            # Same user again: idempotent (traits still update).
            profile = self.touch(current, at)
        elif current.user_id is None:
            profile = self._identify_anonymous(current, user_id, anonymous_id, at)
        else:
            profile = self._switch_user(current, user_id, anonymous_id, at)
        self.put(self.apply_traits(profile, event.traits))

    def _identify_anonymous(
        self, anonymous: Profile, user_id: str, anonymous_id: str, at: datetime
    ) -> Profile:
        """The first identify of an anonymous device: the visit continues as the user."""
        signed_in = {"userId": user_id}
        key = self.users.get(user_id)
        if key is None:
            profile = evolve(anonymous, user_id=user_id)
            self.map_user(user_id, profile.key)
            profile = self.touch(profile, at)
            return self.record(profile, "userSignedIn", at, signed_in)
        known: Profile = self.profiles[key]
        linked = set(known.anonymous_ids) | set(anonymous.anonymous_ids)
        if known.merges + anonymous.merges + 1 > self.policy.max_merges:
            self.notice(
                "merge-limit",
                f"user {user_id!r} reached max_merges={self.policy.max_merges}: the anonymous "
                f"history of {anonymous_id!r} was not merged; the traits went to the user",
            )
            return self.touch(known, at)
        if len(linked) > self.policy.max_anonymous_ids:
            self.notice(
                "anonymous-id-limit",
                f"user {user_id!r} reached max_anonymous_ids={self.policy.max_anonymous_ids}: "
                f"{anonymous_id!r} was not linked; the traits went to the user",
            )
            return self.touch(known, at)
        merged = self.merge_profiles(known, anonymous, session=anonymous.session)
        self.drop(anonymous.key)
        for device in anonymous.anonymous_ids:
            if self.devices.get(device) == anonymous.key:
                self.map_device(device, merged.key)
        merged = self.touch(merged, at)
        return self.record(merged, "userSignedIn", at, signed_in)

    def _switch_user(
        self, previous: Profile, user_id: str, anonymous_id: str, at: datetime
    ) -> Profile:
        """An identified device identifies as someone else: no merge, the session ends."""
        assert previous.user_id is not None
        signed_out = {"userId": previous.user_id}
        self.put(self.end_session(self.record(previous, "userSignedOut", at, signed_out)))
        profile = self.end_session(self.user_profile(user_id))
        self.map_device(anonymous_id, profile.key)
        if anonymous_id not in profile.anonymous_ids:
            if len(profile.anonymous_ids) < self.policy.max_anonymous_ids:
                profile = evolve(profile, anonymous_ids=profile.anonymous_ids.append(anonymous_id))
            else:
                self.notice(
                    "anonymous-id-limit",
                    f"user {user_id!r} reached max_anonymous_ids: {anonymous_id!r} is used "
                    "for this visit but not linked",
                )
        self.notice(
            "user-switched",
            f"device {anonymous_id!r} switched from user {previous.user_id!r} to {user_id!r}; "
            "the accounts were not merged and the session ended",
        )
        profile = self.touch(profile, at)
        return self.record(profile, "userSignedIn", at, {"userId": user_id})

    def anonymize(self, event: Anonymize, at: datetime) -> None:
        anonymous_id = event.anonymous_id
        self.check_id("anonymous id", anonymous_id)
        key = self.devices.get(anonymous_id)
        current: Profile | None = self.profiles[key] if key is not None else None
        if current is None or current.user_id is None:
            self.notice(
                "already-anonymous",
                f"device {anonymous_id!r} is already anonymous; nothing changed",
            )
            return
        signed_out = {"userId": current.user_id}
        self.put(self.end_session(self.record(current, "userSignedOut", at, signed_out)))
        fresh = Profile(self.new_key("profile"), anonymous_ids=pvector([anonymous_id]))
        self.map_device(anonymous_id, fresh.key)
        self.put(self.touch(fresh, at))

    def patch(self, event: Patch, at: datetime) -> None:
        profile = self.touch(self.resolve(event), at)
        steps = [(op.op, op.path, op.value) for op in event.operations]
        for op, _, value in steps:
            if op in VALUELESS_OPERATIONS and value is not None:
                raise InvalidEventError(f"'{op}' takes no value")
        if event.target == "user":
            profile = self.patch_user(profile, steps)
        else:
            profile = self.patch_session(profile, steps)
        self.put(profile)

    def apply_traits(self, profile: Profile, traits: dict[str, Any]) -> Profile:
        if not traits:
            return profile
        steps = [("set", name, value) for name, value in traits.items()]
        return self.patch_user(profile, steps, traits=True)

    def alias(self, event: Alias, at: datetime) -> None:
        self.check_id("user id", event.user_id)
        self.check_id("previous id", event.previous_id)
        if event.previous_id == event.user_id:
            self.notice("already-merged", "previous_id and user_id are the same id")
            return
        if self.users.get(event.previous_id) is not None:
            if self.users.get(event.user_id) is None:
                # A new id for a known user: it becomes another name of the same profile.
                key = self.users[event.previous_id]
                profile: Profile = self.profiles[key]
                self.map_user(event.user_id, key)
                self.put(evolve(profile, aliases=profile.aliases.append(event.user_id)))
                return
            self.merge(Merge(from_user_id=event.previous_id, into_user_id=event.user_id))
            return
        self.identify(
            Identify(user_id=event.user_id, anonymous_id=event.previous_id, timestamp=at), at
        )

    def track(self, event: Track, at: datetime) -> None:
        properties = event.properties
        problem = json_problem(properties, "properties")
        if problem:
            raise InvalidEventError(problem)
        if event.event not in KNOWN_EVENTS:
            # Any other name is a custom event: `experienced a custom event "NAME"`.
            properties = {**properties, "name": event.event}
            event = event.model_copy(update={"event": CUSTOM_EVENT, "properties": properties})
        profile = self.resolve(event)
        session, stats = self.active_session(profile, at)
        if event.event == PAGEVIEW_EVENT:
            stats = {**stats, "pageviews": stats.get("pageviews", 0) + 1}
            if session.pageviews == 0:
                url = properties.get("url")
                referrer = properties.get("referrer")
                session = evolve(
                    session,
                    pageviews=1,
                    landing_page=url if isinstance(url, str) else None,
                    referrer=referrer if isinstance(referrer, str) else None,
                )
            else:
                session = evolve(session, pageviews=session.pageviews + 1)
        elif event.event == ORDER_EVENT:
            stats = {**stats, "orders": stats.get("orders", 0) + 1}
            session = evolve(session, orders=session.orders + 1)
        self.put(self.record(profile, event.event, at, properties, session=session, stats=stats))

    def group(self, event: Group, at: datetime) -> None:
        self.check_id("group id", event.group_id)
        problem = json_problem(event.traits, "traits")
        if problem:
            raise InvalidEventError(problem)
        profile = self.touch(self.resolve(event), at)
        traits: PMap[str, Any] = self.groups.get(event.group_id, pmap())
        for name, value in event.traits.items():
            traits = traits.set(find_key(traits, name) or name, freeze(value))
        self.groups.set(event.group_id, traits)
        groups = pvector([g for g in profile.groups if g != event.group_id]).append(
            event.group_id
        )
        self.put(evolve(profile, groups=groups))

    def merge(self, event: Merge) -> None:
        if not self.policy.allow_explicit_merge:
            raise MergeRefusedError(
                "merging two identified users is disabled (StatePolicy.allow_explicit_merge)"
            )
        self.check_id("user id", event.from_user_id)
        self.check_id("user id", event.into_user_id)
        source_key = self.users.get(event.from_user_id)
        target_key = self.users.get(event.into_user_id)
        if source_key is None or target_key is None:
            unknown = event.from_user_id if source_key is None else event.into_user_id
            raise MergeRefusedError(f"unknown user {unknown!r}")
        if source_key == target_key:
            self.notice("already-merged", "both ids are already the same profile")
            return
        source: Profile = self.profiles[source_key]
        target: Profile = self.profiles[target_key]
        if target.merges + source.merges + 1 > self.policy.max_merges:
            raise MergeRefusedError(
                f"user {event.into_user_id!r} would exceed max_merges={self.policy.max_merges}"
            )
        merged = self.merge_profiles(target, source, session=target.session)
        aliases = [a for a in (source.user_id, *source.aliases) if a is not None]
        merged = evolve(merged, aliases=merged.aliases.extend(aliases))
        self.drop(source.key)
        for user_id in aliases:
            self.map_user(user_id, merged.key)
        for device in source.anonymous_ids:
            if self.devices.get(device) == source.key:
                self.map_device(device, merged.key)
        self.put(merged)

    def delete(self, event: DeleteUser) -> None:
        if event.user_id is None and event.anonymous_id is None:
            raise InvalidEventError("delete_user needs a user_id or an anonymous_id")
        key = None
        if event.user_id is not None:
            key = self.users.get(event.user_id)
        elif event.anonymous_id is not None:
            key = self.devices.get(event.anonymous_id)
        if key is None:
            self.notice("unknown-user", "nothing is stored for this id; nothing was deleted")
        else:
            profile: Profile = self.profiles[key]
            self.drop(key)
            for user_id in (profile.user_id, *profile.aliases):
                if user_id is not None and self.users.get(user_id) == key:
                    self.map_user(user_id, None)
            for device in profile.anonymous_ids:
                if self.devices.get(device) == key:
                    self.map_device(device, None)
            self.deleted_user = True
        if event.suppress:
            for kind, value in (("user", event.user_id), ("anonymous", event.anonymous_id)):
                if value is not None:
                    mark = digest(kind, value)
                    self.suppressed.add(mark)

    def unsuppress(self, event: Unsuppress) -> None:
        for kind, value in (("user", event.user_id), ("anonymous", event.anonymous_id)):
            if value is not None:
                mark = digest(kind, value)
                self.suppressed.discard(mark)

    # --- merging profiles -----------------------------------------------------------------------

    def merge_profiles(
        self, target: Profile, source: Profile, *, session: Session | None
    ) -> Profile:
        """`source` folded into `target`; the policy's winner keeps conflicting attributes
        (a null or absent value is a gap the other fills); stats add up; events interleave
        in arrival order."""
        source_wins = self.policy.merge_winner == "source"
        attributes = _merge_maps(target.attributes, source.attributes, source_wins)
        custom = _merge_maps(
            target.attributes.get("custom", pmap()),
            source.attributes.get("custom", pmap()),
            source_wins,
            top_level=False,
        )
        attributes = attributes.set("custom", custom)
        stats = dict(target.stats)
        for name, value in source.stats.items():
            stats[name] = stats.get(name, 0) + value
        events = sorted([*target.events, *source.events], key=lambda e: e.seq)
        limit = self.policy.max_events_per_profile
        if len(events) > limit:
            events = events[len(events) - limit :]
            self.notice("events-trimmed", f"the merged profile keeps its last {limit} events")
        anonymous_ids = target.anonymous_ids.extend(
            a for a in source.anonymous_ids if a not in target.anonymous_ids
        )
        groups = target.groups.extend(g for g in source.groups if g not in target.groups)
        return evolve(
            target,
            attributes=attributes,
            stats=stats,
            events=pvector(events),
            anonymous_ids=anonymous_ids,
            groups=groups,
            session=session,
            merges=target.merges + source.merges + 1,
        )

    # --- patches ------------------------------------------------------------------------------------

    def patch_user(
        self, profile: Profile, steps: Sequence[tuple[str, str, Any]], *, traits: bool = False
    ) -> Profile:
        attributes: PMap[str, Any] = profile.attributes
        # The custom map is carried beside `attributes` and put back once at the end
        # (replacing the value of a key already there leaves the map's layout unchanged);
        # attributes without the key get it at the first custom operation, as before.
        found: Any = attributes.get("custom", MISSING)
        custom: PMap[str, Any] = pmap() if found is MISSING else found
        for index, (op, path, value) in enumerate(steps):
            try:
                self._check_argument(value)
                segments: tuple[Segment, ...] = (path,) if traits else parse_path(path)
                attributes, changed = self._user_operation(
                    attributes, custom, segments, op, value
                )
            except OperationFailed as exc:
                raise PatchError(index, op, path, _reason(exc, traits)) from None
            if changed is not None:
                custom = changed
                if found is MISSING:
                    attributes = attributes.set("custom", custom)
                    found = custom
        if found is not MISSING:
            attributes = attributes.set("custom", custom)
        return evolve(profile, attributes=attributes)

    def _user_operation(
        self,
        attributes: PMap[str, Any],
        custom: PMap[str, Any],
        segments: tuple[Segment, ...],
        op: str,
        value: Any,
    ) -> tuple[PMap[str, Any], PMap[str, Any] | None]:
        """`op` applied to the user's attributes: the new attributes (without the custom map)
        and the new custom map (None for an operation on a standard attribute)."""
        first = str(segments[0])
        folded = first.casefold()
        if folded in READ_ONLY_USER_ATTRIBUTES:
            raise OperationFailed(
                f"user's {first} is managed by the store (identify and tracking), not patched"
            )
        if folded == "custom":
            if len(segments) == 1:
                return attributes, self._whole_custom(custom, op, value, "user")
            segments = segments[1:]
            first = str(segments[0])
        else:
            canonical = STANDARD_USER_ATTRIBUTES.get(folded)
            if canonical is not None:
                attributes = self._operate(attributes, (canonical, *segments[1:]), op, value)
                self._check_value(attributes, canonical, "user", (canonical,))
                return attributes, custom
        custom = self._operate(custom, segments, op, value)
        self._check_count(custom)
        name = find_key(custom, first) or first
        self._check_value(custom, name, "user", ("custom", name))
        return attributes, custom

    def patch_session(self, profile: Profile, steps: Sequence[tuple[str, str, Any]]) -> Profile:
        session = profile.session
        assert session is not None
        custom: PMap[str, Any] = session.custom
        for index, (op, path, value) in enumerate(steps):
            try:
                self._check_argument(value)
                segments = parse_path(path)
                first = str(segments[0]).casefold()
                if first in READ_ONLY_SESSION_ATTRIBUTES:
                    raise OperationFailed(f"session's {segments[0]} is managed by the store")
                if first == "custom":
                    segments = segments[1:]
                    if not segments:
                        custom = self._whole_custom(custom, op, value, "session")
                        continue
                custom = self._operate(custom, segments, op, value)
                self._check_count(custom)
                name = find_key(custom, str(segments[0])) or str(segments[0])
                self._check_value(custom, name, "session", ("custom", name))
            except OperationFailed as exc:
                raise PatchError(index, op, path, str(exc)) from None
        return evolve(profile, session=evolve(session, custom=custom))

    @staticmethod
    def _operate(container: PMap[str, Any], segments: tuple[Segment, ...], op: str, value: Any) -> PMap[str, Any]:
        """`op` applied at `segments` inside the frozen map `container`."""
        first = segments[0]
        if isinstance(first, int):
            raise OperationFailed("a path starts with an attribute name, not an index")
        current = container.get(first, MISSING)
        key = first if current is not MISSING else find_key(container, first) or first
        if key is not first:
            current = container.get(key, MISSING)
        if (
            len(segments) == 1
            and type(value) in _SCALARS
            and (type(current) in _SCALARS or current is MISSING)
        ):
            # One attribute, a scalar argument, a scalar or no stored value: the operation on
            # the stored value directly (what `apply_operation` does on a one-key holder,
            # without thawing and freezing).
            if type(value) is float and not math.isfinite(value) and op not in _NO_VALUE:
                raise OperationFailed(f"value is {value!r}, not a finite number")
            if current is MISSING and op in TOLERANT_OPERATIONS:
                return container
            new = OPERATIONS[op](current, value)
            if new is MISSING:
                return container.discard(key)
            return container.set(key, freeze(new))
        holder = {key: thaw(current)} if current is not MISSING else {}
        apply_operation(holder, (key, *segments[1:]), op, value)
        if key in holder:
            return container.set(key, freeze(holder[key]))
        return container.discard(key)

    def _whole_custom(
        self, custom: PMap[str, Any], op: str, value: Any, variable: str
    ) -> PMap[str, Any]:
        holder: dict[str, Any] = {"custom": thaw(custom)}
        apply_operation(holder, ("custom",), op, value)
        result = holder.get("custom", {})
        if result is None:
            result = {}
        if not isinstance(result, dict):
            raise OperationFailed("custom attributes are a map; this would make them a list")
        frozen: PMap[str, Any] = freeze(result)
        self._check_count(frozen)
        for name in frozen:
            self._check_value(frozen, name, variable, ("custom", name))
        return frozen

    def _check_argument(self, value: Any) -> None:
        """Refuse a value with a list over the limit before any operation runs on it (so a
        `combine` never compares a huge list item by item)."""
        longest = _longest_plain_list(value)
        if longest > self.policy.max_list_length:
            raise OperationFailed(
                f"the value holds a list of {longest} items, over the limit of "
                f"{self.policy.max_list_length} (max_list_length)"
            )

    def _check_count(self, custom: PMap[str, Any]) -> None:
        if len(custom) > self.policy.max_custom_attributes:
            raise OperationFailed(
                f"over the limit of {self.policy.max_custom_attributes} custom attributes "
                "(max_custom_attributes)"
            )

    def _check_value(
        self, container: PMap[str, Any], name: str, variable: str, schema_path: tuple[str, ...]
    ) -> None:
        value = container.get(name, MISSING)
        if value is MISSING:
            return
        longest = 0 if type(value) in _SCALARS else _longest_list(value)
        if longest > self.policy.max_list_length:
            raise OperationFailed(
                f"a list of {longest} items is over the limit of "
                f"{self.policy.max_list_length} (max_list_length)"
            )
        if self.schema is None:
            return
        expected = self.engine.type_at(variable, schema_path)
        if expected is None:
            if self.engine.type_at(variable, ()) is None:
                return  # a variable the schema does not declare: no constraint
            raise OperationFailed(
                f"the schema does not declare {variable}.{'.'.join(schema_path)}"
            )
        accepts_any = self.engine.accepts_any
        anything = accepts_any.get(id(expected))
        if anything is None:
            anything = accepts_any[id(expected)] = expected.describe() == "any"
        if anything:
            return
        plain = value if type(value) in _SCALARS else thaw(value)
        if not expected.accepts(plain):
            hint = ""
            if isinstance(plain, str) and expected.enum:
                from segmentql.schema.suggest import did_you_mean

                same = [v for v in expected.enum if v.casefold() == plain.casefold()]
                close = same or did_you_mean(plain, expected.enum)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            raise OperationFailed(
                f"the schema expects {expected.describe()} at {variable}.{'.'.join(schema_path)}"
                f", and this would store {plain!r}{hint}"
            )


def _reason(exc: OperationFailed, traits: bool) -> str:
    return f"trait: {exc}" if traits else str(exc)


def _merge_maps(
    winner_base: PMap[str, Any], other: PMap[str, Any], other_wins: bool, *, top_level: bool = True
) -> PMap[str, Any]:
    """`winner_base` with `other`'s keys filling gaps (absent or null); with `other_wins`,
    `other`'s non-null values replace instead. Keys match case-insensitively."""
    result = winner_base
    for name, value in other.items():
        if top_level and name.casefold() == "custom":
            continue  # merged on its own
        key = find_key(result, name)
        if key is None:
            result = result.set(name, value)
        elif value is not None and (other_wins or result[key] is None):
            result = result.set(key, value)
    return result


def _longest_plain_list(value: Any) -> int:
    if isinstance(value, list):
        return max([len(value), *(_longest_plain_list(v) for v in value)])
    if isinstance(value, dict):
        return max([0, *(_longest_plain_list(v) for v in value.values())])
    return 0


def _longest_list(value: Any) -> int:
    if isinstance(value, PVector):
        return max([len(value), *(_longest_list(v) for v in value)])
    if isinstance(value, PMap):
        return max([0, *(_longest_list(v) for v in value.values())])
    return 0


def iter_profiles(state: State) -> Iterable[Profile]:
    """Every profile of `state` (for tools and tests)."""
    return state.profiles.values()
