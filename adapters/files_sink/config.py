"""Configuration of the ``files_sink``: where files go, which formats, when to rotate."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Format = Literal["ndjson", "csv"]


def _ndjson_only() -> list[Format]:
    return ["ndjson"]


class FilesSinkConfig(BaseModel):
    """Append envelopes to NDJSON and/or CSV files per schema, rotated by day and/or size."""

    model_config = ConfigDict(extra="forbid")

    directory: Path = Field(description="Root folder; each schema gets a subfolder")
    formats: list[Format] = Field(
        default_factory=_ndjson_only, min_length=1, description="File formats to write (one or both)"
    )
    rotate_daily: bool = Field(True, description="Start a new file when the day changes (in timezone)")
    rotate_bytes: int | None = Field(
        64 * 1024 * 1024, ge=1024, description="Start a new file before one grows past this; none = no cap"
    )
    timezone: str = Field("Asia/Jakarta", description="Time zone of the day in file names (WIB default)")
    csv_delimiter: str = Field(",", min_length=1, max_length=1, description="CSV field separator")

    @field_validator("formats")
    @classmethod
    def _unique(cls, value: list[Format]) -> list[Format]:
        if len(set(value)) != len(value):
            raise ValueError("formats must not repeat")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value
