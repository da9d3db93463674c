"""The payload schemas, one module per schema; each module has ``SPEC`` (its ``SchemaSpec``), the model
class and ``EXAMPLE`` (a valid raw record: NIKs in clear, so validate it with a tokenizer in the context).
``SPECS``/``EXAMPLES`` are the first version of each schema; further versions (``NAME_v2`` modules, drafts
included) are in ``VERSIONS``, and ``VERSION_EXAMPLES`` has an example per ``name@version``.

Use ``schemas.catalog`` to look schemas up; this package only lists them.
"""

from __future__ import annotations

from typing import Any

from schemas.registry import SchemaSpec

from . import (
    conflict_incident,
    early_warning,
    early_warning_v1_1,
    early_warning_v2,
    foreign_national_monitoring,
    ormas_registration,
    ormas_registration_v2,
    party_financial_aid,
    periodic_report,
    political_dynamics,
    political_education_activity,
    research_permit,
    research_permit_v1_1,
    voter_participation,
)

_MODULES = (
    ormas_registration,
    early_warning,
    conflict_incident,
    political_dynamics,
    political_education_activity,
    voter_participation,
    research_permit,
    foreign_national_monitoring,
    party_financial_aid,
    periodic_report,
)

SPECS: tuple[SchemaSpec, ...] = tuple(m.SPEC for m in _MODULES)
EXAMPLES: dict[str, dict[str, Any]] = {m.SPEC.name: m.EXAMPLE for m in _MODULES}

_LATER_VERSIONS = (ormas_registration_v2, early_warning_v1_1, early_warning_v2, research_permit_v1_1)
VERSIONS: tuple[SchemaSpec, ...] = SPECS + tuple(m.SPEC for m in _LATER_VERSIONS)
VERSION_EXAMPLES: dict[str, dict[str, Any]] = {m.SPEC.ref: m.EXAMPLE for m in (*_MODULES, *_LATER_VERSIONS)}
