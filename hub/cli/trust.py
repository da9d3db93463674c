"""``simpul audit verify`` and ``simpul keys generate|list|revoke|user``.

``audit verify`` checks the evidence log's hash chain offline (``--config`` finds it in the node's state
dir, ``--path`` names the file) and exits 1 naming every broken entry. ``keys`` manages the key registry
file: a new key pair per office (private key written 0600), the list, revocation, broker users.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.errors import ConfigError
from hub.trust.evidence import verify_chain
from hub.trust.keys import OFFICE, KeyModel, RegistryModel, read_registry, write_registry
from hub.trust.signing import KEY_ID, private_key_pem, public_key_b64

EVIDENCE_FILE = "evidence.sqlite3"


def add_audit_verify_arguments(audit: argparse.ArgumentParser) -> None:
    """Give ``simpul audit`` an optional ``verify`` action (without it, the admin audit log is shown)."""
    audit.add_argument(
        "action", nargs="?", choices=("verify",), help="verify: check the evidence log's chain"
    )
    audit.add_argument("--config", type=Path, help="verify: the node's config (finds state_dir)")
    audit.add_argument("--path", type=Path, help="verify: the evidence log file")
    audit.add_argument("--expect-head", help="verify: SEQ:HASH recorded earlier (detects a cut-off tail)")


def add_keys_command(sub: Any) -> None:
    """Add ``simpul keys ...`` to the top-level subparsers."""
    keys = sub.add_parser("keys", help="signing keys and broker users in the key registry")
    ksub = keys.add_subparsers(dest="action", required=True)
    gen = ksub.add_parser("generate", help="a new Ed25519 key pair for an office")
    gen.add_argument("--key-id", required=True, help="the new key's id in the registry, e.g. 32.01-2025")
    gen.add_argument("--office", required=True, help="kode wilayah of the office, or pusat")
    gen.add_argument("--out", type=Path, required=True, help="where to write the private key (PEM, 0600)")
    gen.add_argument("--not-before", help="ISO time with offset from which the key is valid")
    listing = ksub.add_parser("list", help="the registry's keys and users")
    revoke = ksub.add_parser("revoke", help="revoke a key from a time on (default now)")
    revoke.add_argument("key_id", help="the key's id in the registry")
    revoke.add_argument("--at", help="ISO time with offset (default now)")
    user = ksub.add_parser("user", help="register a broker user as speaking for an office")
    user.add_argument("name", help="the broker user name")
    user.add_argument("office", help="kode wilayah of the office it speaks for, or pusat")
    for cmd in (gen, listing, revoke, user):
        cmd.add_argument("--registry", type=Path, required=True, help="the key registry file (JSON)")


def audit_verify(args: argparse.Namespace) -> int:
    """Run ``simpul audit verify``; 0 if the chain is intact, 1 naming broken entries, 2 on bad input."""
    if args.path is not None:
        path = args.path
    elif args.config is not None:
        from hub.settings import load_settings

        path = load_settings(args.config).state_dir / EVIDENCE_FILE
    else:
        raise ConfigError("give --config FILE or --path FILE", key="audit verify")
    if not path.exists():
        raise ConfigError("no evidence log there", key=str(path))
    expect = _head(args.expect_head) if args.expect_head else None
    report = verify_chain(path, expect)
    print(
        f"{path}: {report.entries} entries ({report.records} records), "
        f"head {report.head_seq}:{report.head_hash}"
    )
    for problem in report.problems:
        print(f"BROKEN {problem}")
    print("chain intact" if report.ok else f"chain broken: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1


def keys(args: argparse.Namespace) -> int:
    """Run ``simpul keys ...``."""
    path: Path = args.registry
    registry = read_registry(path) if path.exists() else RegistryModel()
    if args.action == "generate":
        if not KEY_ID.match(args.key_id) or not OFFICE.match(args.office):
            raise ConfigError("bad key id or office", key="keys generate")
        if args.key_id in registry.keys:
            raise ConfigError("the key id is taken (key ids are never reused)", key=args.key_id)
        private = Ed25519PrivateKey.generate()
        try:
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ConfigError("the key file exists; never overwrite a key", key=str(args.out)) from None
        with os.fdopen(fd, "wb") as out:
            out.write(private_key_pem(private))
        public = public_key_b64(private.public_key())
        not_before = _time(args.not_before) if args.not_before else None
        registry.keys[args.key_id] = KeyModel(office=args.office, public_key=public, not_before=not_before)
        write_registry(path, registry)
        print(f"{args.key_id}: office {args.office}, public key {public}; private key in {args.out}")
    elif args.action == "list":
        for key_id, k in sorted(registry.keys.items()):
            state = f"revoked {k.revoked_at.isoformat()}" if k.revoked_at else "valid"
            since = k.not_before.isoformat() if k.not_before else "-"
            print(f"{key_id}\t{k.office}\tnot_before {since}\t{state}")
        for name, office in sorted(registry.users.items()):
            print(f"user {name}\t{office}")
    elif args.action == "revoke":
        if args.key_id not in registry.keys:
            raise ConfigError("no such key in the registry", key=args.key_id)
        at = _time(args.at) if args.at else datetime.now(UTC)
        registry.keys[args.key_id] = registry.keys[args.key_id].model_copy(update={"revoked_at": at})
        write_registry(path, registry)
        print(
            f"{args.key_id}: revoked from {at.isoformat()} (verifiers re-read the registry within reload_s)"
        )
    else:
        if not OFFICE.match(args.office):
            raise ConfigError("the office is a kode wilayah or pusat", key="keys user")
        registry.users[args.name] = args.office
        write_registry(path, registry)
        print(f"user {args.name}: office {args.office}")
    return 0


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError("not an ISO time", key=text) from None
    if at.tzinfo is None:
        raise ConfigError("give the time with its offset", key=text)
    return at


def _head(text: str) -> tuple[int, str]:
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise ConfigError("expected SEQ:HASH as printed by audit verify", key="--expect-head")
    return int(seq), digest
