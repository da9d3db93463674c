"""Upcasters: turn a payload of an older major version into the current version of its schema.

Each :class:`Upcaster` moves one schema one major version up (``from_major`` -> ``from_major + 1``); a
chain runs them in turn. :func:`upcast_payload` then validates the result against the target version, so a
record either comes out in the current shape or raises :class:`UpcastFailed` (a ``RecordError``: the
record is quarantined with the reason and the field issues, never the values).

A payload of the same major but another minor/patch needs no function: within one major every change is
compatible (``tests/unit/catalog/test_governance.py`` enforces it), so it is simply checked against the
current version. A payload *newer* than the current version (a sender upgraded before this hub) raises
``UpcastFailed`` with reason ``schema_version_ahead``: it is kept in quarantine until the hub knows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub.errors import FieldIssue, RecordError
from schemas.registry import SchemaRegistry, SchemaSpec, version_key

Payload = dict[str, Any]


class UpcastFailed(RecordError):
    """A record of an older (or unknown newer) schema version could not be turned into the current one."""

    reason = "upcast_failed"


@dataclass(frozen=True)
class Upcaster:
    """Moves payloads of ``schema`` from major ``from_major`` to ``from_major + 1``.

    ``renames`` (old path -> new path) are applied first; then ``transform`` (optional) finishes the job.
    ``renames`` also tell ``schemas.diff`` that a removed-plus-added pair is a rename."""

    schema: str
    from_major: int
    renames: Mapping[str, str] = field(default_factory=dict)
    transform: Callable[[Payload], Payload] | None = None
    note: str = ""

    def __call__(self, payload: Payload) -> Payload:
        out = dict(payload)
        for old, new in self.renames.items():
            if "." in old or "." in new:
                raise NotImplementedError("nested renames need a transform")
            if old in out:
                if new in out:
                    raise UpcastFailed(
                        f"cannot rename {old} to {new}: both are present",
                        issues=[FieldIssue(f"payload.{old}", "rename_clash", f"{new} is also present")],
                    )
                out[new] = out.pop(old)
        return self.transform(out) if self.transform is not None else out


def _sumber_as_list(payload: Payload) -> Payload:
    """early_warning 1 -> 2: the one kind of source becomes a list of one (absent stays absent)."""
    value = payload.get("sumber")
    if value is not None and not isinstance(value, list):
        payload["sumber"] = [value]
    return payload


UPCASTERS: tuple[Upcaster, ...] = (
    Upcaster(
        "ormas_registration",
        1,
        renames={"tanggal_terbit": "tanggal_registrasi"},
        note="tanggal_terbit -> tanggal_registrasi; more than 10 bidang_kegiatan cannot be upcast",
    ),
    Upcaster(
        "early_warning",
        1,
        transform=_sumber_as_list,
        note="sumber: one kind of source -> a list of one",
    ),
)
_BY_KEY: dict[tuple[str, int], Upcaster] = {(u.schema, u.from_major): u for u in UPCASTERS}


def upcaster(schema: str, from_major: int) -> Upcaster | None:
    """The upcaster from ``from_major`` to the next major of ``schema``, if one is registered."""
    return _BY_KEY.get((schema, from_major))


def declared_renames(schema: str, from_major: int, to_major: int) -> dict[str, str]:
    """The field renames declared by the upcasters from ``from_major`` up to ``to_major`` (composed)."""
    renames: dict[str, str] = {}
    for major in range(from_major, to_major):
        step = upcaster(schema, major)
        if step is None:
            continue
        for old, new in step.renames.items():
            first = next((k for k, v in renames.items() if v == old), old)
            renames[first] = new
    return renames


def upcast_payload(
    name: str, version: str, payload: Payload, registry: SchemaRegistry
) -> tuple[SchemaSpec, Payload]:
    """``payload`` (of ``name@version``) in the current version of ``name``: ``(current spec, payload)``.

    The payload returned is the validated model dumped as JSON. Raises ``UpcastFailed`` when no upcaster
    path exists, a step fails, the result does not fit, or ``version`` is newer than the current one;
    ``UnknownSchema`` when ``name`` is not registered."""
    current = registry.get(name)
    try:
        have = version_key(version)
    except ValueError:
        raise UpcastFailed(
            "the schema version is not MAJOR.MINOR.PATCH",
            issues=[FieldIssue("schema_version", "version_format", "expected MAJOR.MINOR.PATCH")],
        ) from None
    if have > current.version_tuple:
        raise UpcastFailed(
            f"{name} {version} is newer than this hub's current {current.version}",
            issues=[FieldIssue("schema_version", "schema_version_ahead", f"current is {current.version}")],
            reason="schema_version_ahead",
        )
    data = dict(payload)
    for major in range(have[0], current.major):
        step = upcaster(name, major)
        if step is None:
            raise UpcastFailed(
                f"no upcaster for {name} from v{major} to v{major + 1}",
                issues=[FieldIssue("schema_version", "no_upcaster", f"v{major} -> v{major + 1} is missing")],
            )
        try:
            data = step(data)
        except RecordError:
            raise
        except Exception as exc:  # an upcaster bug must quarantine the record, not stop the consumer
            raise UpcastFailed(
                f"the upcaster {name} v{major} -> v{major + 1} failed ({type(exc).__name__})",
                issues=[FieldIssue("payload", "upcaster_error", type(exc).__name__)],
            ) from None
    try:
        model = current.model.model_validate(data)
    except ValidationError as exc:
        issues = [
            FieldIssue("payload." + ".".join(str(p) for p in err["loc"]), str(err["type"]), str(err["msg"]))
            for err in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise UpcastFailed(
            f"{name} {version} does not fit {current.version} after upcasting", issues=issues
        ) from None
    return current, model.model_dump(mode="json")
