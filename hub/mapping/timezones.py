"""Indonesian time zones: WIB (+07), WITA (+08), WIT (+09), by name and by province code.

A mapping's ``timezone`` (or a rule's ``tz``) is ``"auto"`` (the province of the record's own
``kode_wilayah``, else of the sending office), ``"office"`` (the office's province), a zone name (``WIB``,
``WITA``, ``WIT``, ``UTC``), an offset (``+08:00``) or an IANA name (``Asia/Makassar``). Indonesia has no
daylight saving time, so fixed offsets are exact.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WIB = timezone(timedelta(hours=7), "WIB")
WITA = timezone(timedelta(hours=8), "WITA")
WIT = timezone(timedelta(hours=9), "WIT")
ZONES: dict[str, tzinfo] = {"WIB": WIB, "WITA": WITA, "WIT": WIT, "UTC": UTC, "Z": UTC}
AUTO, OFFICE = "auto", "office"

# Province (Kemendagri code) -> zone, per Keppres 41/1987: Sumatra, Java, West and Central Kalimantan are
# WIB; Bali, Nusa Tenggara, South/East/North Kalimantan and Sulawesi are WITA; Maluku and Papua are WIT.
_WIB = "11 12 13 14 15 16 17 18 19 21 31 32 33 34 35 36 61 62"
_WITA = "51 52 53 63 64 65 71 72 73 74 75 76"
_WIT = "81 82 91 92 93 94 95 96"
PROVINCE_ZONES: dict[str, tzinfo] = {
    code: zone for codes, zone in ((_WIB, WIB), (_WITA, WITA), (_WIT, WIT)) for code in codes.split()
}
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_tz(spec: str) -> tzinfo | None:
    """The zone a config names, None for ``auto``/``office``; ``ValueError`` for an unknown name."""
    if spec in (AUTO, OFFICE):
        return None
    if spec.upper() in ZONES:
        return ZONES[spec.upper()]
    match = _OFFSET.match(spec)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    try:
        return ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {spec!r} (use WIB, WITA, WIT, +07:00, an IANA name or auto)"
        ) from None


def zone_of_region(code: str | None) -> tzinfo | None:
    """The zone of the province a kode wilayah lies in, or None when unknown (``pusat``, empty)."""
    if not code or len(code) < 2:
        return None
    return PROVINCE_ZONES.get(code[:2])


def zone_in_text(text: str) -> tuple[str, tzinfo | None]:
    """``text`` without a trailing zone word (``14.30 WITA``), and that zone (None when absent)."""
    parts = text.rsplit(None, 1)
    if len(parts) == 2 and parts[1].upper() in ("WIB", "WITA", "WIT"):
        return parts[0], ZONES[parts[1].upper()]
    return text, None
