"""Envelopes of real schemas for feed and completeness tests, with the fields those tests vary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.classification import Classification
from schemas.envelope import Envelope
from tests.helpers import ENVELOPE_T0, make_envelope


def feed_env(
    schema: str = "ormas_registration",
    rid: str = "R-1",
    revision: int = 1,
    *,
    kode: str = "32.01",
    classification: Classification = Classification.TERBATAS,
    reported_at: datetime = ENVELOPE_T0,
    occurred_at: datetime | None = None,
    **payload: Any,
) -> Envelope:
    """An envelope of ``schema``'s example payload at ``kode`` with the given classification and times."""
    base = make_envelope(schema, rid, revision, kode=kode, office=kode, **payload)
    return base.model_copy(
        update={"classification": classification, "reported_at": reported_at, "occurred_at": occurred_at}
    )


def report_env(
    kode: str,
    *,
    quarter: int = 1,
    year: int = 2024,
    reported_at: datetime,
    revision: int = 1,
    status: str = "diajukan",
) -> Envelope:
    """A periodic_report (triwulan) of the office at ``kode``."""
    return feed_env(
        "periodic_report",
        f"LAP-{kode}-{year}-{quarter}",
        revision,
        kode=kode,
        reported_at=reported_at,
        jenis_periode="triwulan",
        tahun=year,
        periode_ke=quarter,
        status=status,
    )
