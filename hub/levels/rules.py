"""What a level does with a record that came up to it: forward it, hold it here, or refuse it.

The rules are deliberately few and explicit (DOMAIN.md: verification at each level):

* the record's kode wilayah must be the node's region or lie below it, else it is refused
  (``region_outside_node``): a kab/kota node never forwards another kab/kota's records. One exception:
  a region split off from the *sending office's* area into another province (Kota Sorong, 92.71 -> 96.71
  in 2022), which the first hub accepted from that office with a ``region_successor`` note, travels up
  the sending office's chain: a node whose region holds the office forwards it (keyed by its true code)
  if the region data's own history says it was split off from the office's area;
* a payload with a workflow ``status`` of ``draft`` is held: a draft report does not leave its office;
  ``dikembalikan`` (returned by the level above) is held too, since it travels down, not up;
* a record whose classification is in ``hold_classifications`` is held at this level;
* otherwise it is forwarded, and the hop records the level's verdict: ``diverifikasi`` for a report the
  level verified on its way up (status ``diajukan``/``diverifikasi``), ``diteruskan`` for everything else.

Held records wait, intact, in the level's ``held`` queue; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from hub.errors import FieldIssue, RegionError
from hub.ingest.offices import successor_note, within_office
from schemas.classification import Classification
from schemas.envelope import Envelope, Hop
from schemas.regions import default_index

Verdict = Literal["forward", "hold"]
_HELD_STATUSES = frozenset({"draft", "dikembalikan"})
_VERIFIED_STATUSES = frozenset({"diajukan", "diverifikasi"})


@dataclass(frozen=True)
class Decision:
    """The level's verdict on one record and the hop it appends to the lineage."""

    verdict: Verdict
    hop_status: str
    reason: str


@dataclass(frozen=True)
class LevelRules:
    """The rules of one node: its name, level, region (``None`` = the whole country) and what it holds."""

    node: str
    level: str
    region: str | None
    hold_classifications: frozenset[Classification] = frozenset({Classification.SANGAT_RAHASIA})

    def decide(self, envelope: Envelope) -> Decision:
        """Forward or hold ``envelope``; raises ``RegionError`` if it does not belong to this node."""
        if self.region is not None and not self._belongs(envelope):
            raise RegionError(
                f"the record's region lies outside node {self.node}'s region",
                issues=[
                    FieldIssue("kode_wilayah", "region_outside_node", f"must be {self.region} or below it")
                ],
                reason="region_outside_node",
            )
        status = envelope.payload.get("status")
        if isinstance(status, str) and status in _HELD_STATUSES:
            return Decision("hold", "ditahan", f"workflow_{status}")
        if envelope.classification in self.hold_classifications:
            return Decision("hold", "ditahan", f"classification_{envelope.classification.value.lower()}")
        if isinstance(status, str) and status in _VERIFIED_STATUSES:
            return Decision("forward", "diverifikasi", "verified")
        return Decision("forward", "diteruskan", "forwarded")

    def _belongs(self, envelope: Envelope) -> bool:
        """The record's region is this node's or below it, or is a successor of the area of a sending
        office that is this node's or below it (checked against the region data, not the note alone)."""
        assert self.region is not None
        if within_office(envelope.kode_wilayah, self.region):
            return True
        office = envelope.source.office
        return within_office(office, self.region) and (
            successor_note(default_index(), envelope.kode_wilayah, office) is not None
        )

    def stamp(self, envelope: Envelope, decision: Decision, at: datetime) -> Envelope:
        """``envelope`` with this level's hop appended to its lineage (the rest is left untouched, so a
        signature over the record stays valid)."""
        hop = Hop(node=self.node, level=self.level, at=at, status=decision.hop_status)
        return envelope.model_copy(update={"lineage": (*envelope.lineage, hop)})
