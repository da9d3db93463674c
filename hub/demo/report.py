"""The demo's summary: what was offered, confirmed, quarantined (by reason) and applied, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """Figures of one demo run; ``ok`` is the verdict."""

    offices: int
    expected_good: int
    expected_bad: int
    sent: int = 0
    confirmed: int = 0
    rows: int = 0
    withdrawn: int = 0
    applied_revisions: int = 0
    duplicates: int = 0
    missing: int = 0
    wrong: int = 0
    unexpected: int = 0
    quarantined: int = 0
    bad_missing: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    expected_reasons: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    ok: bool = False


def render(r: Report) -> str:
    """The summary as aligned lines."""
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.reasons.items())) or "none"
    rate = r.confirmed / r.elapsed_s if r.elapsed_s else 0.0
    lines = [
        "",
        "Simpul demo summary",
        f"  offices            {r.offices}",
        f"  offered            {r.sent:>7,}  records pushed over HTTP (incl. retries, edits, withdrawals)",
        f"  published          {r.confirmed:>7,}  confirmed by the broker",
        f"  quarantined        {r.quarantined:>7,}  ({reasons}); expected {r.expected_bad}, "
        f"{r.bad_missing} not found by id and reason",
        f"  applied            {r.applied_revisions:>7,}  record revisions applied at the centre",
        f"  warehouse rows     {r.rows:>7,}  ({r.rows - r.withdrawn} active, {r.withdrawn} withdrawn); "
        f"expected {r.expected_good}",
        f"  duplicates         {r.duplicates:>7,}  resent or redelivered, recognised and not re-applied",
        f"  missing/wrong/unexpected  {r.missing}/{r.wrong}/{r.unexpected}",
        f"  elapsed            {r.elapsed_s:7.1f}  s  ({rate:,.0f} confirmed records/s, end to end)",
        "",
        "PASS: every good record applied exactly once at its final revision; every bad record quarantined"
        if r.ok
        else "FAIL: the centre does not hold exactly what was sent (see the figures above)",
    ]
    return "\n".join(lines)
