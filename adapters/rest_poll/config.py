"""Config of the ``rest_poll`` source: where to poll, how to authenticate, page, keep a cursor and retry.

Secrets are given either literally (``SecretStr``: hidden in reprs and logs) or as the *name* of an
environment variable read at start, so a config file can be committed without the key in it.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hub.errors import FatalError

_FORBID = ConfigDict(extra="forbid")


class _Secret(BaseModel):
    """A secret given literally (``value``) or by environment variable name (``env``): exactly one."""

    model_config = _FORBID

    value: SecretStr | None = Field(None, description="The secret itself (prefer env in production)")
    env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable name"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> _Secret:
        if (self.value is None) == (self.env is None):
            raise ValueError("give exactly one of value or env")
        return self

    def resolve(self) -> str:
        """The secret; ``FatalError`` naming the variable (never its value) when it is unset or empty."""
        if self.value is not None:
            return self.value.get_secret_value()
        assert self.env is not None
        found = os.environ.get(self.env, "")
        if not found:
            raise FatalError(f"environment variable {self.env} (a rest_poll secret) is not set")
        return found


class ApiKeyAuth(_Secret):
    """An API key sent in a header, e.g. the legacy PHP apps' ``X-API-KEY``."""

    type: Literal["api_key"] = Field(description="Discriminator")
    header: str = Field("X-API-KEY", min_length=1, description="Header that carries the key")


class BearerAuth(_Secret):
    """``Authorization: Bearer <token>``."""

    type: Literal["bearer"] = Field(description="Discriminator")


class NoAuth(BaseModel):
    """No authentication (only for APIs reachable inside the office network)."""

    model_config = _FORBID

    type: Literal["none"] = Field(description="Discriminator")


Auth = Annotated[ApiKeyAuth | BearerAuth | NoAuth, Field(discriminator="type")]


class Paging(BaseModel):
    """How one poll cycle walks through pages.

    * ``page``: a page-number parameter (and optionally a page-size parameter); the next page is the
      number at ``next_page_path`` if set (null ends), else the following number while pages are full;
    * ``next_link``: follow a URL (absolute or relative) found at ``next_path`` in the body, or in the
      ``Link: <...>; rel="next"`` header;
    * ``none``: one request per cycle.
    """

    model_config = _FORBID

    mode: Literal["page", "next_link", "none"] = Field("page", description="Paging style")
    page_param: str = Field("page", description="Query parameter of the page number (mode page)")
    first_page: int = Field(1, ge=0, description="Number of the first page")
    size_param: str | None = Field("limit", description="Query parameter of the page size, or null")
    page_size: int = Field(100, ge=1, le=10_000, description="Records asked for per page")
    next_page_path: str | None = Field(
        None, description="Dotted path of the next page number in the body (mode page), e.g. next_page"
    )
    next_path: str | None = Field(None, description="Dotted path of the next URL in the body (next_link)")
    link_header: bool = Field(True, description="Also follow a Link rel=next header (mode next_link)")


class Cursor(BaseModel):
    """An ``updated_since`` cursor: only records changed since the last committed one are asked for.

    The stored cursor is (updated_at, id) of the newest record confirmed. Each cycle asks for
    ``updated_since = cursor - overlap_s`` and drops records at or before the cursor by (updated_at, id),
    so records sharing the cursor's timestamp are neither skipped (whether the server compares with ``>``
    or ``>=``) nor repeated forever. The API must sort by updated_at, ties by id.
    """

    model_config = _FORBID

    param: str = Field("updated_since", description="Query parameter of the since-timestamp")
    format: str = Field(
        "%Y-%m-%d %H:%M:%S",
        description="strftime format of the parameter, or iso, epoch_s, epoch_ms",
    )
    overlap_s: float = Field(1.0, ge=0, le=86_400, description="Asked-for window reaches back this much")
    initial: str | None = Field(None, description="Since-timestamp of the very first cycle (else none sent)")


class RestPollConfig(BaseModel):
    """Everything the ``rest_poll`` source needs; validated before the node starts."""

    model_config = _FORBID

    base_url: str = Field(pattern=r"^https?://", description="Scheme, host and port, e.g. http://10.1.2.3")
    path: str = Field("/", description="Path of the list endpoint, e.g. /api/v1/laporan")
    params: dict[str, str] = Field(default_factory=dict, description="Fixed query parameters")
    auth: Auth = Field(default_factory=lambda: NoAuth(type="none"), description="Authentication")
    paging: Paging = Field(default_factory=Paging, description="Paging within one poll cycle")
    cursor: Cursor | None = Field(None, description="updated_since cursor; null = full sweep every cycle")
    data_path: str = Field("data", description="Dotted path of the record list in the body; '' = the body")
    status_path: str | None = Field(
        None, description="Dotted path of a success flag (legacy apps: status); false is a failed answer"
    )
    empty_messages: list[str] = Field(
        default_factory=lambda: ["Data tidak ditemukan", "Data tidak ada", "Tidak ada data"],
        description="With status false, these messages (at message_path) mean an empty result, not an error",
    )
    message_path: str = Field("message", description="Dotted path of the status message")
    id_path: str | None = Field(None, description="Dotted path of the record id (source_record_id)")
    updated_at_path: str | None = Field(
        None, description="Dotted path of the last-change time; its epoch ms is the revision"
    )
    source_utc_offset: str = Field(
        "+07:00", pattern=r"^[+-]\d{2}:\d{2}$", description="Offset of times without one (WIB +07:00)"
    )
    poll_interval_s: float = Field(60.0, gt=0, le=86_400, description="Pause between poll cycles")
    once: bool = Field(False, description="Run one cycle, then end (tests, demo, cron-style runs)")
    max_pages_per_cycle: int = Field(
        1000, ge=1, description="Pages with new records read in one cycle at most (already seen ones: 10x)"
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Total time per request")
    connect_timeout_s: float = Field(10.0, gt=0, le=120, description="Time to connect per request")
    retries: int = Field(4, ge=0, le=20, description="Retries of a failed request before giving up")
    backoff_base_s: float = Field(0.5, gt=0, le=60, description="First retry delay (doubles, full jitter)")
    backoff_cap_s: float = Field(30.0, gt=0, le=600, description="Largest retry delay")
    rate_limit_per_s: float | None = Field(
        None, gt=0, description="Requests per second at most; null = no limit"
    )
    max_response_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Larger responses are refused")

    @model_validator(mode="after")
    def _consistent(self) -> RestPollConfig:
        if self.cursor is not None and self.updated_at_path is None:
            raise ValueError("a cursor needs updated_at_path")
        if self.paging.mode == "next_link" and self.paging.next_path is None and not self.paging.link_header:
            raise ValueError("next_link paging needs next_path or link_header")
        return self
