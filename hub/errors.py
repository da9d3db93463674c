"""The one exception tree of Simpul.

What the pipeline does with an error depends only on its class::

    SimpulError                      base of everything Simpul raises on purpose
    ├── ConfigError                  bad settings or adapter config; raised before anything starts
    ├── RecordSkipped                a mapping's skip rule matched: the row is dropped on purpose, counted
    ├── RecordError                  this record is bad: quarantine it, keep going
    │   ├── MappingError             the raw record could not be mapped to the schema
    │   ├── ValidationFailed         the mapped payload broke a schema rule (carries field issues)
    │   ├── UnknownSchema            no such schema name or version
    │   ├── RegionError              kode wilayah unknown, or of the wrong level for the schema
    │   └── TrustError               signature, signing key or sender identity does not hold (hub.trust)
    ├── RetriableError               a passing condition: back off and try the same record again
    │   ├── BrokerUnavailable        not connected, or the publish/confirm timed out
    │   ├── BrokerBlocked            the broker raised a memory or disk alarm
    │   ├── SourceUnavailable        the regional system did not answer properly
    │   └── SinkUnavailable          a sink's target (database, receiver) did not take the write
    ├── FatalError                   stop the adapter with a clear log line
    │   └── TopologyError            the broker's topology is missing or unsafe (e.g. no dead-letter policy)
    ├── Unroutable                   the broker returned a publish: no queue is bound for its key (fatal)
    └── RequestError                 an operator's request cannot be done (carries an HTTP status)
        ├── NotFound                 no such quarantine entry, adapter, ...
        └── Conflict                 the thing is not in a state that allows it (e.g. already redriven)

Every error message is safe to log: it never contains a submitted value (NIKs, names, free text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SimpulError(Exception):
    """Base class of all errors Simpul raises on purpose."""


class ConfigError(SimpulError):
    """A setting or adapter config is invalid. ``key`` names the offending key when known."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message if key is None else f"{key}: {message}")
        self.key = key


class RecordSkipped(SimpulError):
    """A mapping's ``skip`` rule matched this raw row: it is not a record, so it is neither published nor
    quarantined, but counted and shown with ``reason`` (the rule's own words, never a submitted value).

    The source acknowledges a skipped row like a delivered one: skipping is the configured outcome.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FieldIssue:
    """One broken rule on one field, without the submitted value.

    ``loc`` is the dotted path of the field (``pengurus.0.nik``), ``rule`` a stable machine name
    (``missing``, ``int_parsing``, ``kode_wilayah_unknown``), ``message`` a human explanation.
    """

    loc: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"loc": self.loc, "rule": self.rule, "message": self.message}


class RecordError(SimpulError):
    """This one record cannot go on; it goes to quarantine with ``reason`` and ``issues``.

    ``reason`` is a short stable code used for grouping and filtering quarantined records.
    """

    reason: str = "record_error"

    def __init__(self, message: str, *, issues: list[FieldIssue] | None = None, reason: str | None = None):
        super().__init__(message)
        self.issues: list[FieldIssue] = list(issues or [])
        if reason is not None:
            self.reason = reason

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "message": str(self), "issues": [i.as_dict() for i in self.issues]}


class MappingError(RecordError):
    """The raw record could not be turned into a payload of the target schema."""

    reason = "mapping_failed"


class ValidationFailed(RecordError):
    """The payload or envelope broke schema rules; ``issues`` lists each field and rule."""

    reason = "validation_failed"


class UnknownSchema(RecordError):
    """No schema is registered under this name (and version)."""

    reason = "unknown_schema"


class RegionError(RecordError):
    """The kode wilayah is not in the reference set, or its level does not fit the schema."""

    reason = "region_invalid"


class TrustError(RecordError):
    """The record cannot be trusted: its signature, signing key, time window or sender identity failed.

    ``reason`` is specific: ``signature_missing``, ``signature_invalid``, ``key_unknown``,
    ``key_not_yet_valid``, ``key_revoked``, ``outside_time_window`` or ``identity_mismatch``.
    """

    reason = "untrusted"


class RetriableError(SimpulError):
    """A passing condition; the same record should be tried again after a back-off."""

    retry_after_s: float = 1.0


class BrokerUnavailable(RetriableError):
    """The broker is not connected, or a publish was not confirmed in time."""


class BrokerBlocked(BrokerUnavailable):
    """The broker blocked publishers (memory or disk alarm)."""

    retry_after_s = 5.0


class SourceUnavailable(RetriableError):
    """A regional source system did not answer, or answered with a server error."""


class SinkUnavailable(RetriableError):
    """A sink's target (a database, a receiving system) did not take the write; it is retried later."""


class FatalError(SimpulError):
    """The adapter or node cannot continue; it stops with a clear log line."""


class TopologyError(FatalError):
    """Broker topology is missing or unsafe (for example a queue without a dead-letter policy)."""


class Unroutable(FatalError):
    """The broker returned a mandatory publish: no queue is bound for the routing key."""


class RequestError(SimpulError):
    """An operator's request cannot be carried out; ``status`` is the HTTP status to answer with."""

    status = 400


class NotFound(RequestError):
    """The named thing does not exist."""

    status = 404


class Conflict(RequestError):
    """The thing exists but its state does not allow the request."""

    status = 409


@dataclass
class Outcome:
    """What happened to one offered record. ``status`` is published, quarantined or rejected."""

    status: str
    message_id: str | None = None
    error: dict[str, Any] | None = field(default=None)
    entry_id: str | None = None  # the quarantine entry, when status is quarantined
