"""The consumer's identity check: broker user, envelope office and signing key belong together."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import TrustError
from hub.trust.keys import KeyRegistry
from hub.trust.signing import Signer
from hub.trust.verify import TrustPolicy, Verifier
from tests.helpers import make_envelope
from tests.security.test_signatures import NOW, signed

USERS = {"simpul-32.01": "32.01", "simpul-32": "32", "simpul-33": "33", "simpul-pusat": "pusat"}


def check(item: dict[str, Any], user: str | None, **policy: Any) -> None:
    Verifier(
        KeyRegistry(None, dev_mode=True, users=USERS), TrustPolicy(**policy), clock=lambda: NOW
    ).check_delivery(item, user)


@pytest.mark.parametrize(
    ("key_office", "envelope_office", "kode", "user"),
    [
        ("32.01", "32.01", "32.01", "simpul-32.01"),  # a kab/kota publishing its own
        ("32.01", "32.01", "32.01", "simpul-32"),  # ... arriving through the province's shovel user
        ("32.01", "32.01", "32.01", "simpul-pusat"),
        ("32", "32.01", "32.01", "simpul-32"),  # the province's hub ingested it for Bogor over HTTP
        ("pusat", "32.01", "32.01", "simpul-pusat"),  # pusat ingested it
    ],
)
def test_matching_identities_pass(key_office: str, envelope_office: str, kode: str, user: str) -> None:
    """User covers the key's office, which covers the envelope's office, which covers the region."""
    check(signed(Signer.development(key_office), kode=kode, office=envelope_office), user)


@pytest.mark.parametrize(
    ("key_office", "envelope_office", "kode", "user", "what"),
    [
        ("32.01", "32.01", "32.01", "simpul-33", "user of another province"),
        ("32.01", "32.01", "32.01", "simpul-nobody", "unregistered user"),
        ("33", "32.01", "32.01", "simpul-32", "key of another province"),
        ("32.01", "32.02", "32.02", "simpul-32", "Bogor's key signing for Kab. Sukabumi"),
        ("32", "32", "32.01", "simpul-32.01", "kab/kota user publishing a provincial record"),
        ("32.01", "32.01", "33.01", "simpul-pusat", "region outside the envelope's office"),
    ],
)
def test_spoofed_identity_is_identity_mismatch(
    key_office: str, envelope_office: str, kode: str, user: str, what: str
) -> None:
    """Any pair that does not belong together is quarantined as identity_mismatch."""
    item = signed(Signer.development(key_office), kode=kode, office=envelope_office)
    with pytest.raises(TrustError) as info:
        check(item, user)
    assert info.value.reason == "identity_mismatch", what


def test_missing_user_id_refused_when_required() -> None:
    """A delivery without a broker-validated user is refused in production, allowed in dev."""
    item = signed(Signer.development("32.01"))
    with pytest.raises(TrustError) as info:
        check(item, None, require_user=True)
    assert info.value.reason == "identity_mismatch"
    check(item, None, require_user=False)


def test_unsigned_record_still_needs_a_matching_user() -> None:
    """Even where unsigned records are allowed, the broker user must cover the office."""
    item = make_envelope().model_dump(mode="json")
    check(item, "simpul-32.01", require_signatures=False)
    with pytest.raises(TrustError):
        check(item, "simpul-33", require_signatures=False)


def test_a_region_split_off_from_the_offices_area_passes_and_others_do_not() -> None:
    """Papua Barat's office (92) may send Kota Sorong, now 96.71 in Papua Barat Daya (UU 29/2022); Papua's
    (91) may not, and Papua Barat may not send a region of Papua's that moved (Merauke, 93.01)."""
    users = {"simpul-pusat": "pusat"}
    verifier = Verifier(KeyRegistry(None, dev_mode=True, users=users), TrustPolicy(), clock=lambda: NOW)
    verifier.check_delivery(signed(Signer.development("92"), kode="96.71", office="92"), "simpul-pusat")
    for office, kode in (("91", "96.71"), ("92", "93.01")):
        with pytest.raises(TrustError) as info:
            verifier.check_delivery(
                signed(Signer.development(office), kode=kode, office=office), "simpul-pusat"
            )
        assert info.value.reason == "identity_mismatch"
