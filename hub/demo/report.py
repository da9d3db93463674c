"""The demo's summary: per source kind offered / published / quarantined / applied, and the verdict.

Figures only: no payload, name or NIK is ever printed.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


@dataclass
class KindFigures:
    """One source kind's figures. ``ok`` needs every count of a mismatch at zero and no problems."""

    kind: str
    title: str
    skipped: str = ""
    offered: int = 0  # records handed to the hub (re-offers after faults and duplicate pages included)
    published: int = 0  # confirmed by the broker
    quarantined: int = 0  # confirmed into quarantine at ingest
    applied: int = 0  # revisions of this kind's records applied at the centre
    good: int = 0  # records expected at the centre
    bad: int = 0  # records expected in quarantine
    missing: int = 0  # final revision not at the centre
    wrong: int = 0  # at the centre at another revision or state
    bad_missing: int = 0  # expected in quarantine, not found by id, reason and rule
    bad_unexpected: int = 0  # in quarantine from this kind's adapters, not expected
    problems: list[str] = field(default_factory=list)
    notes: str = ""

    @property
    def ok(self) -> bool:
        mismatches = self.missing + self.wrong + self.bad_missing + self.bad_unexpected
        return bool(self.skipped) or (mismatches == 0 and not self.problems)


@dataclass
class Report:
    """The figures of one run; ``ok`` is the verdict."""

    kinds: list[KindFigures] = field(default_factory=list)
    rows: int = 0
    withdrawn: int = 0
    expected_rows: int = 0
    unexpected: int = 0  # applied revisions no source served, plus rows beyond the expected ones
    stray_quarantine: int = 0  # quarantine entries of no demo source (e.g. a sink-side conflict)
    quarantine_entries: int = 0
    duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    vhost: str = ""
    left: str = ""  # what the run left behind (kept or removed), said before the verdict

    @property
    def ok(self) -> bool:
        ran = [k for k in self.kinds if not k.skipped]
        clean = self.unexpected == 0 and self.stray_quarantine == 0 and self.rows == self.expected_rows
        return bool(ran) and clean and all(k.ok for k in self.kinds)

    def total(self, name: str) -> int:
        """The sum of one figure over the kinds that ran."""
        return sum(int(getattr(k, name)) for k in self.kinds if not k.skipped)


_HEAD = (
    f"  {'kind':<8} {'offered':>8} {'published':>10} {'quarantined':>12} {'applied':>8} "
    f"{'expected good/bad':>18}   check"
)


def _check(k: KindFigures) -> str:
    if k.ok:
        return "ok"
    counts = {
        "missing": k.missing,
        "wrong revision/state": k.wrong,
        "bad not quarantined": k.bad_missing,
        "quarantined unexpectedly": k.bad_unexpected,
    }
    return "FAIL: " + (", ".join(f"{v} {n}" for n, v in counts.items() if v) or "see problems")


def render(r: Report) -> str:
    """The summary as aligned lines."""
    lines = ["", f"Simpul demo summary (RabbitMQ vhost '{r.vhost}', one node, one central warehouse)", _HEAD]
    for k in r.kinds:
        if k.skipped:
            lines.append(
                f"  {k.kind:<8} {'-':>8} {'-':>10} {'-':>12} {'-':>8} {'-':>18}   skipped: {k.skipped}"
            )
            continue
        expected = f"{k.good:,}/{k.bad:,}"
        lines.append(
            f"  {k.kind:<8} {k.offered:>8,} {k.published:>10,} {k.quarantined:>12,} {k.applied:>8,} "
            f"{expected:>18}   {_check(k)}"
        )
    lines.append(
        f"  {'total':<8} {r.total('offered'):>8,} {r.total('published'):>10,} "
        f"{r.total('quarantined'):>12,} {r.total('applied'):>8,}"
    )
    lines.append("")
    for k in r.kinds:
        if not k.skipped:
            lines.append(f"  {k.kind:<8} {k.title}")
            if k.notes:
                lines.extend(f"  {'':<8} {line}" for line in textwrap.wrap(k.notes, 96))
            lines.extend(f"  {'':<8} PROBLEM: {p}" for p in k.problems)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.reasons.items())) or "none"
    lines += [
        "",
        f"  quarantine         {r.quarantine_entries:>7,}  entries, {r.stray_quarantine} from no demo source",
        f"  {'':<18} {'':>7}  ({reasons})",
        f"  warehouse rows     {r.rows:>7,}  ({r.rows - r.withdrawn:,} active, {r.withdrawn:,} withdrawn); "
        f"expected {r.expected_rows:,}",
        f"  duplicates         {r.duplicates:>7,}  resent, re-polled or redelivered: recognised, not applied",
        f"  missing/wrong/unexpected  {r.total('missing')}/{r.total('wrong')}/{r.unexpected}",
        f"  elapsed            {r.elapsed_s:7.1f}  s",
        "",
        *explain(r),
        "",
        *([f"  {r.left}", ""] if r.left else []),
        _verdict(r),
    ]
    return "\n".join(lines)


def explain(r: Report) -> list[str]:
    """How the figures relate, with this run's own numbers: why they need not be equal."""
    applied, quarantined = r.total("applied"), r.total("quarantined")
    good = r.total("good")
    text = [
        "Reading the figures:",
        f"offered ({r.total('offered'):,}) counts every record handed to the hub, re-offers after faults and "
        "re-polled pages included; published and quarantined are the broker's confirmations of those.",
        f"applied ({applied:,}) counts revisions written at the centre, one per revision of a record: a "
        f"record sent again with a newer revision (an update, a withdrawal) adds one, so applied is at least "
        f"the warehouse rows ({r.rows:,}, one per record) and at least the expected good records "
        f"({good:,}, counted by their final revision).",
        f"quarantined ({quarantined:,}) counts confirmations into quarantine; a bad record offered twice "
        f"(a retry, a re-polled page) is confirmed twice but filed once, so the quarantine holds "
        f"{r.quarantine_entries:,} entries.",
        "duplicates are resends the centre recognised (same record, same revision) and did not apply again.",
    ]
    out = [f"  {text[0]}"]
    for paragraph in text[1:]:
        out.extend(textwrap.wrap(paragraph, 104, initial_indent="  - ", subsequent_indent="    "))
    return out


def _verdict(r: Report) -> str:
    if r.ok:
        return (
            "PASS: every good record applied exactly once at its final revision; every bad record quarantined"
        )
    if not any(not k.skipped for k in r.kinds):
        return "FAIL: no source kind could run (see the skipped lines above)"
    return "FAIL: the centre does not hold exactly what the sources served (see the figures above)"
