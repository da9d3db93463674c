"""``hub.metrics.observe_many`` counts a batch of observations as ``Histogram.observe`` would, one by one."""

from __future__ import annotations

import math
import random

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hub.metrics import observe_many

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def _pair() -> tuple[CollectorRegistry, Histogram, CollectorRegistry, Histogram]:
    one, many = CollectorRegistry(), CollectorRegistry()
    return (
        one,
        Histogram("h_seconds", "h", ["adapter"], buckets=BUCKETS, registry=one),
        many,
        Histogram("h_seconds", "h", ["adapter"], buckets=BUCKETS, registry=many),
    )


def test_a_batch_is_counted_as_one_observe_per_amount() -> None:
    rng = random.Random(7)
    # Every bound exactly (``le`` is inclusive), either side of it, zero, negatives, beyond the last bound.
    edges = [b + d for b in BUCKETS for d in (-1e-9, 0.0, 1e-9)]
    amounts = [*edges, 0.0, -0.5, 31.0, 1e6, *(rng.uniform(0, 12) for _ in range(500))]
    one_reg, one, many_reg, many = _pair()
    for amount in amounts:
        one.labels(adapter="pg").observe(amount)
    observe_many(many.labels(adapter="pg"), amounts[:100])
    observe_many(many.labels(adapter="pg"), amounts[100:])
    observe_many(many.labels(adapter="pg"), [])
    expected, got = _samples(one_reg), _samples(many_reg)
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        if key[0].endswith("_sum"):
            assert got[key] == pytest.approx(value, rel=1e-12)
        else:
            assert got[key] == value, key
    assert got[("h_seconds_count", (("adapter", "pg"),))] == len(amounts)


def test_nan_is_summed_but_falls_in_no_bucket_as_with_observe() -> None:
    one_reg, one, many_reg, many = _pair()
    one.labels(adapter="x").observe(math.nan)
    one.labels(adapter="x").observe(0.2)
    observe_many(many.labels(adapter="x"), [math.nan, 0.2])
    expected, got = _samples(one_reg), _samples(many_reg)
    for key, value in expected.items():
        assert got[key] == value or (math.isnan(value) and math.isnan(got[key])), key


def test_the_parent_of_labelled_children_refuses_as_observe_does() -> None:
    _, one, _, many = _pair()
    with pytest.raises(ValueError):
        one.observe(1.0)
    with pytest.raises(ValueError):
        observe_many(many, [1.0])


def test_without_the_histograms_internals_each_amount_is_observed() -> None:
    class Plain:  # what a prometheus_client without ``_upper_bounds`` and ``_buckets`` would give
        def __init__(self) -> None:
            self.seen: list[float] = []

        def observe(self, amount: float) -> None:
            self.seen.append(amount)

    plain = Plain()
    observe_many(plain, [0.5, 2.0])  # type: ignore[arg-type]
    assert plain.seen == [0.5, 2.0]
