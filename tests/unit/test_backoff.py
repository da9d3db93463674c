"""The one back-off rule (``hub.backoff``): full jitter below a doubling ceiling, or the plain doubling."""

from __future__ import annotations

from hub.backoff import Backoff


def test_full_jitter_stays_below_the_doubling_ceiling_and_above_the_floor() -> None:
    backoff = Backoff(base_s=0.2, cap_s=5.0)
    for attempt in range(12):
        ceiling = min(5.0, 0.2 * 2**attempt)
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
        assert all(d >= 1.5 for d in (backoff.delay(attempt, floor=1.5) for _ in range(50)))


def test_without_jitter_the_wait_doubles_to_the_cap() -> None:
    backoff = Backoff(base_s=0.2, cap_s=5.0, jitter=False)
    assert [backoff.delay(a) for a in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert backoff.delay(10_000) == 5.0  # no overflow on a long outage


def test_the_runner_and_the_transport_share_it() -> None:
    from hub.adapters import runner
    from hub.transport import amqp_consume

    assert runner.Backoff is Backoff and isinstance(amqp_consume._RESUBSCRIBE_BACKOFF, Backoff)
    assert amqp_consume._RESUBSCRIBE_BACKOFF.jitter is False
