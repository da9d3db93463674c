"""Trust and data protection: signatures, the key registry, identity checks, evidence, rate limits.

* ``signing``  canonical form of an envelope, Ed25519 ``Signer``, single and batch signatures;
* ``merkle``   the hash tree behind batch signatures (one signature per batch, a path per record);
* ``keys``     the key registry (rotation, revocation, broker user -> office), reloaded when it changes;
* ``verify``   ``Verifier``: signature, key validity, replay window, and the consumer's identity check;
* ``evidence`` the hash-chained evidence log of the central consumer and its verification;
* ``ratelimit`` per-region token buckets for HTTP ingest; ``limits`` nesting depth;
* ``pii``      which keys a quarantine preview masks, over every schema of the catalogue.

``build_signer`` and ``build_verifier`` turn node settings into the parts a node (or a level forwarder)
needs. ``simpul audit verify`` and ``simpul keys ...`` are ``hub.cli.trust``.

May import ``hub.model``, ``hub.transport`` and the foundations (``hub.settings``, ``hub.errors``) and
``schemas``; not ``hub.mapping`` (its sibling) nor anything above."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from hub.errors import ConfigError
from hub.settings import Settings
from hub.trust.keys import KeyEntry, KeyRegistry
from hub.trust.signing import Signer
from hub.trust.verify import TrustPolicy, Verifier

__all__ = ["Signer", "Verifier", "build_signer", "build_verifier", "node_office"]

_PUBLISHING_ROLES = ("source", "shovel", "hub")


def node_office(settings: Settings) -> str:
    """The office a node speaks for: its region, or ``pusat``."""
    return settings.region or "pusat"


def build_signer(settings: Settings) -> Signer:
    """The node's signer: its configured key, or (dev mode only) its office's development key."""
    t = settings.trust
    office = node_office(settings)
    if t.signing_key_path is not None:
        if not t.key_id:
            raise ConfigError("a signing key needs its registered key id", key="trust.key_id")
        return Signer.from_file(t.signing_key_path, t.key_id, office)
    if not settings.dev_mode:
        raise ConfigError(
            "set a signing key (development keys need dev_mode = true)", key="trust.signing_key_path"
        )
    return Signer.development(office)


def build_verifier(settings: Settings, signer: Signer | None = None) -> Verifier:
    """A verifier over the node's key registry; the node's own broker user, the broker users the
    topology renders (source, shovel and hub roles) and the node's own ``signer`` key are known too
    (an entry for that key in the registry file, e.g. its revocation, takes precedence)."""
    t = settings.trust
    users: dict[str, str] = {}
    for user in getattr(settings, "broker_users", []):  # rendered by hub.levels (optional section)
        if user.role in _PUBLISHING_ROLES:
            users[user.name] = user.office
    login = urlparse(settings.broker.url).username
    if login:
        users[unquote(login)] = node_office(settings)
    own = {signer.key_id: KeyEntry(signer.key_id, signer.office, signer.public_key)} if signer else {}
    registry = KeyRegistry(
        t.registry_path, dev_mode=settings.dev_mode, reload_s=t.registry_reload_s, users=users, own_keys=own
    )
    strict = not settings.dev_mode
    policy = TrustPolicy(
        require_signatures=strict if t.require_signatures is None else t.require_signatures,
        require_user=strict if t.require_user is None else t.require_user,
        max_age_s=t.max_age_s,
        max_future_s=t.max_future_s,
    )
    return Verifier(registry, policy)
