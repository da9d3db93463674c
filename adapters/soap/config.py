"""Configuration of the ``soap`` source: which operation to call, with which date windows, and where the
records and their identity sit in the response."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

PLACEHOLDERS = ("{start}", "{end}", "{last}")


class SoapSourceConfig(BaseModel):
    """One SOAP operation polled by date window (e.g. a DPMPTSP research-permit service)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="Endpoint URL of the SOAP service")
    soap_version: Literal["1.1", "1.2"] = Field("1.1", description="SOAP version of the request envelope")
    action: str = Field("", description="SOAPAction (1.1 header, 1.2 content-type parameter)")
    envelope_template: str | None = Field(
        None,
        description="Request envelope with {start}, {end} (exclusive) and {last} (inclusive) date "
        "placeholders; give this or template_file",
    )
    template_file: Path | None = Field(None, description="File holding the request envelope template")
    date_format: str = Field("%Y-%m-%d", description="strftime format of the dates put into the template")
    record_path: str = Field(
        min_length=1,
        description="Local element names from the Body's child to one record, '/'-separated, e.g. "
        "CariIzinPenelitianResponse/return/IzinPenelitian",
    )
    id_field: str = Field(min_length=1, description="Dotted path of the source record id inside a record")
    revision_field: str | None = Field(
        None,
        description="Dotted path of the revision: an integer, or an ISO date/time turned into epoch "
        "milliseconds; none = left to the mapping",
    )
    withdraw_field: str | None = Field(None, description="Dotted path of a field marking a withdrawn record")
    withdraw_values: list[str] = Field(
        default_factory=lambda: ["Y"], description="Values of withdraw_field that mean withdrawn"
    )
    list_fields: list[str] = Field(
        default_factory=list, description="Element names that are always lists, even when they occur once"
    )
    start_date: date = Field(description="First day to read when no cursor is stored yet")
    window_days: int = Field(7, ge=1, le=366, description="Days per request window")
    timezone: str = Field("Asia/Jakarta", description="Time zone that decides what 'today' is (WIB default)")
    poll_interval_s: float = Field(300.0, gt=0, le=86_400, description="Pause after catching up with today")
    once: bool = Field(False, description="Stop after catching up with today (backfills, tests)")
    batch_size: int = Field(500, ge=1, le=10_000, description="Records offered per batch within a window")
    timeout_s: float = Field(30.0, gt=0, le=600, description="Total seconds one SOAP call may take")
    max_response_bytes: int = Field(
        50 * 1024 * 1024, ge=1024, description="Larger responses are refused; lower window_days then"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers (e.g. an API key)")
    username: str | None = Field(None, description="HTTP basic-auth user, if the service needs one")
    password: SecretStr | None = Field(None, description="HTTP basic-auth password")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @model_validator(mode="after")
    def _one_template(self) -> SoapSourceConfig:
        if (self.envelope_template is None) == (self.template_file is None):
            raise ValueError("give exactly one of envelope_template and template_file")
        if self.template_file is not None and not self.template_file.is_file():
            raise ValueError(f"template_file {str(self.template_file)!r} does not exist")
        if "{start}" not in self.template():
            raise ValueError("the envelope template needs a {start} placeholder")
        return self

    def template(self) -> str:
        """The request envelope template text."""
        if self.envelope_template is not None:
            return self.envelope_template
        assert self.template_file is not None
        return self.template_file.read_text(encoding="utf-8")

    @property
    def record_steps(self) -> list[str]:
        """``record_path`` split into local element names."""
        return [step for step in self.record_path.split("/") if step]
