"""Exceptions of the state model; all derive from `segmentql.errors.SegmentqlError`.

An invalid event raises one of these and changes nothing. `event_index` is the event's position
in the batch passed to `ProfileStore.apply` (None when the error is not about one event).
"""

from __future__ import annotations

from segmentql.errors import SegmentqlError


class StateError(SegmentqlError):
    """Root of the state model's errors."""

    def __init__(self, message: str, *, event_index: int | None = None) -> None:
        self.message = message
        self.event_index = event_index
        super().__init__(self._text())

    def _text(self) -> str:
        if self.event_index is None:
            return self.message
        return f"event {self.event_index}: {self.message}"

    def at_index(self, index: int) -> StateError:
        """This error, located at position `index` of a batch (for messages and the CLI)."""
        self.event_index = index
        self.args = (self._text(),)
        return self


class InvalidEventError(StateError):
    """An event that does not have the shape of any event, or breaks a rule of the model."""


class InvalidIdentifierError(InvalidEventError):
    """A user, anonymous or group id that is empty or on the identifier blocklist."""

    def __init__(self, kind: str, value: str, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {kind} {value!r}: {reason}")


class PatchError(InvalidEventError):
    """One operation of a patch is invalid; the whole patch (and its batch) is rejected."""

    def __init__(self, operation_index: int, op: str, path: str, reason: str) -> None:
        self.operation_index = operation_index
        self.op = op
        self.path = path
        self.reason = reason
        super().__init__(f"operation {operation_index} ({op} {path!r}): {reason}")


class MergeRefusedError(InvalidEventError):
    """An explicit `merge` that the policy does not allow, or that would break a limit."""


class StoreError(StateError):
    """The profile store cannot be opened, read or written."""


class CorruptStoreError(StoreError):
    """The store's file is not a segmentql SQLite store, or its contents cannot be read."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(
            f"{path}: not a readable segmentql store ({detail}); the file was left untouched"
        )


class DeletionPendingError(StoreError):
    """A deletion was committed (nothing reads the user any more), but its bytes could not yet
    be scrubbed from the database's files; the scrub is recorded and completes later."""
