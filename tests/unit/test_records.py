"""``hub.model.records``: the one rule for revisions from source fields, and the one place a source
record's identity is copied onto a mapped record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hub.errors import MappingError
from hub.model.records import MappedRecord, SourceRecord, passthrough, revision_of
from schemas.classification import Classification
from schemas.envelope import SourceIdentity

WIB = ZoneInfo("Asia/Jakarta")
SOURCE = SourceIdentity(system="sys-a", office="32.01", adapter="a")


def test_integers_are_revisions_as_they_are() -> None:
    assert revision_of(7) == 7 and revision_of("  42 ") == 42 and revision_of(Decimal("3")) == 3
    for junk in (None, True, -1, Decimal("1.5"), Decimal("-2"), "kemarin", "", "1e3"):
        assert revision_of(junk) is None, junk


def test_dates_and_times_are_epoch_milliseconds_naive_ones_in_the_zone() -> None:
    """Every date form gives the same instant's milliseconds; a naive value is read in ``zone``, an
    aware one keeps its offset; a value before 1970 has no revision."""
    at = int(datetime(2024, 3, 8, 14, 30, tzinfo=WIB).timestamp() * 1000)
    assert revision_of("2024-03-08T14:30:00+07:00") == at
    assert revision_of("2024-03-08T14:30:00+07:00", WIB) == at
    assert revision_of("2024-03-08 14:30:00", WIB) == at
    assert revision_of("08/03/2024 14.30", WIB) == at
    assert revision_of(datetime(2024, 3, 8, 14, 30), WIB) == at
    assert revision_of("2024-03-08 14:30:00") == at + 7 * 3600 * 1000  # naive in UTC by default
    midnight = int(datetime(2024, 3, 8, tzinfo=UTC).timestamp() * 1000)
    assert revision_of(date(2024, 3, 8)) == revision_of("8-3-2024") == revision_of("2024-03-08") == midnight
    assert revision_of("31/02/2024") is None and revision_of("1969-12-31") is None


def test_later_times_are_higher_revisions() -> None:
    times = ["01/07/2024", "2024-07-01 10:11", "2024-07-01T10:11:12.500+00:00", "2024-07-02"]
    revisions = [revision_of(t) for t in times]
    assert revisions == sorted(revisions) and len(set(revisions)) == 4


def test_from_source_copies_identity_and_takes_what_a_mapping_decided() -> None:
    occurred = datetime(2024, 1, 2, tzinfo=UTC)
    record = SourceRecord(
        "ormas", {"x": 1}, SOURCE, "R-1", 3, "withdraw", occurred, None, Classification.RAHASIA
    )
    assert passthrough(record) == MappedRecord(
        {"x": 1}, "R-1", 3, "withdraw", occurred, None, Classification.RAHASIA
    )
    mapped = MappedRecord.from_source(record, {"y": 2}, revision=9, mapping_version="2")
    assert (mapped.payload, mapped.revision, mapped.source_record_id, mapped.op) == (
        {"y": 2},
        9,
        "R-1",
        "withdraw",
    )
    assert mapped.mapping_version == "2" and mapped.classification is Classification.RAHASIA


def test_an_identity_without_id_or_revision_is_a_mapping_error() -> None:
    with pytest.raises(MappingError) as caught:
        passthrough(SourceRecord("ormas", {}, SOURCE))
    assert sorted(i.loc for i in caught.value.issues) == ["id", "revision"]
    with pytest.raises(MappingError) as caught:
        MappedRecord.from_source(SourceRecord("ormas", {}, SOURCE, "R-1", 1), {}, revision=None)
    assert [i.loc for i in caught.value.issues] == ["revision"]
