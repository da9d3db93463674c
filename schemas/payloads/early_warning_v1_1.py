"""early_warning 1.1.0: the assessed level becomes optional (a report not yet assessed has none).

Changes from 1.0.0 (compatible; every 1.0.0 record is a 1.1.0 record):

* ``tingkat`` is optional: an early-warning app or a form filled in by FKDM members reports what was seen;
  the level is assessed later (or by the office). A mapping had to write a constant "sedang" for every
  report, a made-up value that analysts could not tell from an assessed one.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from schemas.classification import Classification

from ._common import TingkatKerawanan, build_spec
from .early_warning import EXAMPLE as EXAMPLE_V1
from .early_warning import EarlyWarning as EarlyWarningV1


class EarlyWarning(EarlyWarningV1):
    """One early-warning report, as it goes up at once (not in a periodic report)."""

    tingkat: TingkatKerawanan | None = Field(default=None, description="Assessed level, if assessed")


SPEC = build_spec(
    name="early_warning",
    version="1.1.0",
    model=EarlyWarning,
    title="Early warning",
    description="An early-warning (deteksi dini) report of ATHG by aspect, level and source (SIPKS, FKDM).",
    region_levels={1, 2, 3, 4},
    identity=("sumber_id", "kode_wilayah", "waktu_laporan"),
    classification=Classification.RAHASIA,
    changes="tingkat optional (reports are assessed later; no made-up level)",
)

EXAMPLE: dict[str, Any] = {k: v for k, v in EXAMPLE_V1.items() if k != "tingkat"}
