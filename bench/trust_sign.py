"""Per-record cost of envelope signatures: canonical form + Ed25519 sign, and verify at the consumer.

Run: ``.venv/bin/python bench/trust_sign.py [N]``. Prints microseconds per record for each step on one
realistic envelope (ormas_registration example), so the figure can be set beside validation's cost.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import orjson

from hub.ingest.validation import Validator
from hub.model.records import SourceRecord, passthrough
from hub.trust.keys import KeyRegistry
from hub.trust.signing import Signer, canonical_bytes
from hub.trust.verify import TrustPolicy, Verifier
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity
from schemas.payloads.ormas_registration import EXAMPLE
from schemas.pii import NikTokenizer
from schemas.regions import default_index


def _per_record_us(fn: object, n: int) -> float:
    assert callable(fn)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main(n: int = 20_000) -> None:
    signer = Signer.development("32.01")
    tokenizer = NikTokenizer(b"bench-key-0123456789abcdef")
    plain = Validator(default_index(), tokenizer)
    signed = Validator(default_index(), tokenizer, signer=signer)
    source = SourceIdentity(system="bench", office="32.01", adapter="bench")
    record = SourceRecord("ormas_registration", dict(EXAMPLE), source, source_record_id="r-1", revision=1)
    spec = get_schema("ormas_registration")
    mapped = passthrough(record)
    now = datetime.now(UTC)
    prepared = signed.prepare(record, mapped, spec, now)
    item = orjson.loads(prepared.body)
    policy = TrustPolicy(require_user=False)
    uncached = Verifier(KeyRegistry(None, dev_mode=True), policy, cache_size=0)
    cached = Verifier(KeyRegistry(None, dev_mode=True), policy)
    figures = {
        "prepare without signature": _per_record_us(lambda: plain.prepare(record, mapped, spec, now), n),
        "prepare with signature": _per_record_us(lambda: signed.prepare(record, mapped, spec, now), n),
        "canonical form only": _per_record_us(lambda: canonical_bytes(item), n),
        "sign only (canonical + Ed25519)": _per_record_us(lambda: signer.sign(item), n),
        "verify at the consumer (first time)": _per_record_us(lambda: uncached.check_delivery(item, None), n),
        "verify again (extra sink, redelivery)": _per_record_us(lambda: cached.check_delivery(item, None), n),
    }
    print(f"{n} records, body {len(prepared.body)} bytes")
    for name, us in figures.items():
        print(f"  {name:38s} {us:8.1f} us/record")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
