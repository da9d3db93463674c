"""Settings, a foundation: the node's configuration (``hub.settings.node``: ``Settings`` and
``load_settings``, over its sections by area in ``broker``, ``access``, ``adapters`` and ``base``) and the
feeds' and completeness sections (``hub.settings.feeds``), re-exported here so ``from hub.settings import
Settings`` is the one way in.

May import only ``hub.errors`` and ``schemas`` (and pydantic): loading the settings starts nothing and
pulls in no feature above the foundations.
"""

from hub.settings.access import AdminToken, ApiKey, HttpSettings, TrustSettings
from hub.settings.adapters import SinkEntry, SinkSettings, SourceEntry
from hub.settings.base import office_exists
from hub.settings.broker import BatchSettings, BrokerSettings, BrokerUser, FeedSettings, UplinkSettings
from hub.settings.feeds import (
    CompletenessSettings,
    FeedApiSettings,
    FeedConsumer,
    Obligation,
    PeriodKind,
)
from hub.settings.node import DEV_KEY, Settings, load_settings

__all__ = [
    "DEV_KEY",
    "AdminToken",
    "ApiKey",
    "BatchSettings",
    "BrokerSettings",
    "BrokerUser",
    "CompletenessSettings",
    "FeedApiSettings",
    "FeedConsumer",
    "FeedSettings",
    "HttpSettings",
    "Obligation",
    "PeriodKind",
    "Settings",
    "SinkEntry",
    "SinkSettings",
    "SourceEntry",
    "TrustSettings",
    "UplinkSettings",
    "load_settings",
    "office_exists",
]
