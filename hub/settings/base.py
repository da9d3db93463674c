"""What the settings sections share: ``_Section``, the base of every section model (unknown keys are
refused), and ``office_exists``, the check of an office code that ``BrokerUser`` and ``load_settings``
apply (and ``hub.admin.config_check`` through ``hub.settings``).

Imports pydantic and, when called, ``schemas.regions`` only.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def office_exists(code: str) -> bool:
    """Whether ``code`` names an office: ``pusat``, or an existing kode wilayah written dotted."""
    if code == "pusat":
        return True
    from schemas.regions import default_index

    region = default_index().get(code)
    return region is not None and region.code == code
