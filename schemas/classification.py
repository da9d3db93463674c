"""Security classification of a message (default TERBATAS)."""

from __future__ import annotations

from enum import StrEnum


class Classification(StrEnum):
    """Classification levels, lowest first; compare with ``rank``."""

    BIASA = "BIASA"
    TERBATAS = "TERBATAS"
    RAHASIA = "RAHASIA"
    SANGAT_RAHASIA = "SANGAT_RAHASIA"

    @property
    def rank(self) -> int:
        return list(Classification).index(self)
