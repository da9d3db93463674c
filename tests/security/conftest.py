"""Security tests reuse the broker fixtures of the integration suite (own vhost per test)."""

from tests.integration.conftest import amqp_url, broker_vhost, management, management_url

__all__ = ["amqp_url", "broker_vhost", "management", "management_url"]
