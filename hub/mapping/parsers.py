"""The ``parse`` step of a rule: parser name and its options -> a step ``(scope, value) -> value``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any

from hub.errors import ConfigError, MappingError
from hub.mapping import dates, numbers, text
from hub.mapping.countries import parse_country
from hub.mapping.scope import Scope, ZoneRule
from hub.mapping.spec import FieldRule

Step = Callable[[Scope, Any], Any]


def as_text(value: Any) -> str:
    """Text of a scalar: dates in ISO form, decimals in plain notation, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _time_default(rule: FieldRule, key: str) -> time | None:
    if rule.time_default is None:
        return None
    try:
        return dates.parse_time(rule.time_default)[0]
    except MappingError:
        raise ConfigError("time_default must be a time such as 00:00", key=f"{key}.time_default") from None


def compile_parser(rule: FieldRule, ctx: Any, key: str) -> Step:
    """The step for ``rule.parse``; ``ctx`` (a ``rules.Context``) records the extra paths read."""
    style = rule.style
    name = rule.parse
    simple: dict[str, Callable[[Any], Any]] = {
        "text": as_text,
        "int": lambda v: numbers.parse_int(v, style),
        "decimal": lambda v: numbers.parse_decimal(v, style),
        "rupiah": lambda v: numbers.parse_rupiah(v, style),
        "bool": numbers.parse_bool,
        "date": dates.parse_date,
        "time": lambda v: dates.parse_time(v)[0],
        "years": text.duration_years,
        "phone": text.normalize_phone,
        "country": parse_country,
    }
    if name in simple:
        function = simple[name]
        return lambda scope, value: function(value)
    if name == "date_range":
        index = 0 if rule.part == "start" else 1
        return lambda scope, value: dates.parse_date_range(value)[index]
    if name == "end_date":
        start_path = rule.start
        if start_path:
            ctx.read(key, start_path)

        def end(scope: Scope, value: Any) -> Any:
            start = scope.value(start_path) if start_path else None
            return text.end_date(value, dates.parse_date(start) if start is not None else None)

        return end
    zone = ZoneRule.of(rule.tz) if rule.tz else ctx.zone
    time_path, fallback = rule.time, _time_default(rule, key)
    if time_path:
        ctx.read(key, time_path)

    def stamp(scope: Scope, value: Any) -> Any:
        clock = scope.value(time_path) if time_path else None
        return dates.parse_datetime(value, scope.zone(zone), clock, fallback)

    if name == "datetime":
        return stamp

    def epoch(scope: Scope, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return dates.epoch_ms(stamp(scope, value))  # a number above: already an epoch or a counter

    return epoch
