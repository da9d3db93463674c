"""``Pipeline.offer_many``: all prepared records go to the publisher in one call; outcomes stay per
record and in input order, refused records are quarantined beside the published ones."""

from __future__ import annotations

from hub.model.records import SourceRecord
from hub.node import Node
from schemas.envelope import SourceIdentity
from schemas.payloads.voter_participation import EXAMPLE


async def test_outcomes_in_order_with_refused_records_quarantined(memory_node: Node) -> None:
    source = SourceIdentity(system="kpu", office="pusat", adapter="test")
    bad = {**EXAMPLE, "partisipasi": "12.00"}  # does not match the counts
    raws = [EXAMPLE, bad, {**EXAMPLE, "kode_wilayah": "32.02"}, {**bad, "partisipasi": "13.00"}, EXAMPLE]
    records = [
        SourceRecord("voter_participation", raw, source, source_record_id=f"r{i}", revision=1)
        for i, raw in enumerate(raws)
    ]
    outcomes = await memory_node.pipeline.offer_many(records)
    assert [o.status for o in outcomes] == [
        "published",
        "quarantined",
        "published",
        "quarantined",
        "published",
    ]
    assert outcomes[1].error is not None and outcomes[1].entry_id != outcomes[3].entry_id
    assert len({o.message_id for o in outcomes if o.status == "published"}) == 3


async def test_an_empty_batch_has_no_outcomes(memory_node: Node) -> None:
    assert await memory_node.pipeline.offer_many([]) == []
