"""Query parameters: errors, the caller's :class:`View`, :class:`Filters` parsed from query strings, and
the values each collection's filters accept (:data:`COLLECTIONS`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from truceline.core.enums import (
    ClaimVerdict,
    EventKind,
    SensorHealth,
    SensorKind,
    VerificationStatus,
    ViolationKind,
    WeaponClass,
)
from truceline.core.errors import InvalidInput, NotFound

#: Default and largest page size.
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
#: The times a query may name, UTC: ``TIME_MIN <= t < TIME_MAX`` (anything else is refused naming the parameter,
#: so that no arithmetic on a query time can overflow).
TIME_MIN = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
TIME_MAX = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
#: Decimals of a public position: 0.01 degree, about 1.1 km north-south.
PUBLIC_DECIMALS = 2
_PARTIES = ("UA", "RU", "unattributed")


class QueryError(InvalidInput):
    """A bad query parameter (HTTP 400, where other invalid input is 422); ``param`` names it.

    Parameters
    ----------
    param : str
        The parameter (``"bbox"``, ``"start"``...).
    message : str
        What is wrong with it.
    """

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(f"{param}: {message}")


class UnknownKind(NotFound):
    """A record kind the API does not know (HTTP 404)."""


# ----------------------------------------------------------------------------------- views
@dataclass(frozen=True)
class View:
    """What a caller may see: ``full``, ``liaison`` (of ``party``) or ``public``.

    Build it with :meth:`for_role`.
    """

    mode: str
    party: str | None = None

    @classmethod
    def for_role(cls, role: str, party: str | None = None) -> View:
        """The view of a role (``admin``, ``analyst``, ``observer`` -> full; ``liaison``; ``public``).

        Raises
        ------
        ValueError
            For an unknown role, or a liaison without a party.
        """
        if role in ("admin", "analyst", "observer"):
            return cls("full")
        if role == "liaison":
            if party not in ("UA", "RU"):
                raise ValueError(f"party: a liaison view needs a party (got {party!r})")
            return cls("liaison", party)
        if role == "public":
            return cls("public")
        raise ValueError(f"role: unknown role {role!r}")

    @property
    def full(self) -> bool:
        return self.mode == "full"

    @property
    def liaison(self) -> bool:
        return self.mode == "liaison"

    @property
    def public(self) -> bool:
        return self.mode == "public"

    def sees(self, concerns: Iterable[str | None]) -> bool:
        """Whether a finding concerning these parties is visible (always, but for a liaison)."""
        return not self.liaison or self.party in set(concerns)


FULL = View("full")


# ----------------------------------------------------------------------------------- parsing
def parse_time(value: str | None, param: str) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 time with a zone (``Z`` or an offset), or a date (00:00 UTC), between
    :data:`TIME_MIN` and :data:`TIME_MAX`.

    Raises
    ------
    QueryError
        For anything else (a time whose UTC falls outside those bounds, ``9999-12-31T23:59:59-01:00``,
        included), naming ``param``.
    """
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            t = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tzinfo=dt.UTC)
        else:
            t = dt.datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    except ValueError:
        raise QueryError(param, f"{value!r} is not an ISO 8601 time (e.g. 2026-09-02T12:00:00Z)") from None
    if t.tzinfo is None:
        raise QueryError(param, f"{value!r} has no timezone (add Z or +03:00)")
    try:
        utc = t.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 or 9999-12-31T23:30-01:00: no UTC time exists
        utc = None
    if utc is None or not TIME_MIN <= utc < TIME_MAX:
        raise QueryError(param, f"{value!r} is out of range (a query time lies in [{TIME_MIN:%Y-%m-%d}, "
                                f"{TIME_MAX:%Y-%m-%d}) UTC)")  # fmt: skip
    return t


def parse_datetime_interval(value: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """OGC API Features ``datetime``: an instant, or ``start/end`` with ``..`` (or empty) for open ends.

    Returns ``(start, end)`` for the half-open filter ``start <= t < end``: the closed interval of
    the standard becomes ``end + 1 µs``; an instant ``t`` selects ``[t, t + 1 µs)``; a date alone
    selects its whole UTC day.

    Raises
    ------
    QueryError
        Naming ``datetime``.
    """
    if value is None or value == "":
        return None, None
    one_us = dt.timedelta(microseconds=1)
    if "/" not in value:
        t = parse_time(value, "datetime")
        assert t is not None
        return t, t + (dt.timedelta(days=1) if len(value.strip()) == 10 else one_us)
    a, _, b = value.partition("/")
    start = None if a in ("", "..") else parse_time(a, "datetime")
    end = None if b in ("", "..") else parse_time(b, "datetime")
    if end is not None:
        end += dt.timedelta(days=1) if len(b.strip()) == 10 else one_us
    if start is None and end is None:
        raise QueryError("datetime", "an interval needs at least one end ('../..' is not an interval)")
    if start is not None and end is not None and end <= start:
        raise QueryError("datetime", f"{value!r} ends before it starts")
    return start, end


def _list(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(p.strip() for v in items for p in v.split(",") if p.strip()))


def _int(value: str | int | None, param: str, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise QueryError(param, f"{value!r} is not an integer") from None
    if not lo <= n <= hi:
        raise QueryError(param, f"{n} is not in [{lo}, {hi}]")
    return n


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise QueryError("bbox", f"{value!r} is not a list of numbers lon0,lat0,lon1,lat1") from None
    if len(nums) == 6:  # lon0,lat0,z0,lon1,lat1,z1 (OGC): heights are ignored
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise QueryError("bbox", f"{value!r}: need 4 (or 6) finite numbers lon0,lat0,lon1,lat1")
    lon0, lat0, lon1, lat1 = nums
    if not (-180 <= lon0 <= 180 and -180 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90):
        raise QueryError("bbox", f"{value!r}: need -180 <= lon <= 180 and -90 <= lat0 <= lat1 <= 90")
    return lon0, lat0, lon1, lat1


@dataclass(frozen=True)
class Filters:
    """Parsed filters of a collection query (see the module docstring).

    Attributes
    ----------
    start, end : datetime or None
        ``start <= time < end``.
    bbox : (lon0, lat0, lon1, lat1) or None
        Degrees; ``lon0 > lon1`` crosses the antimeridian.
    status, party, kind, sector : tuple of str
        Any of these values (empty: no filter).
    limit, offset : int
        The page.
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    status: tuple[str, ...] = ()
    party: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def parse_filters(
    *,
    start: str | None = None,
    end: str | None = None,
    datetime: str | None = None,
    bbox: str | None = None,
    status: str | Sequence[str] | None = None,
    party: str | Sequence[str] | None = None,
    kind: str | Sequence[str] | None = None,
    sector: str | Sequence[str] | None = None,
    limit: str | int | None = None,
    offset: str | int | None = None,
) -> Filters:
    """Parse query-string values into :class:`Filters` (lists may be comma-separated or repeated).

    ``datetime`` (OGC) and ``start``/``end`` are alternatives; the latter win where both are given.

    Raises
    ------
    QueryError
        Naming the first bad parameter.
    """
    t0, t1 = parse_datetime_interval(datetime)
    t0 = parse_time(start, "start") or t0
    t1 = parse_time(end, "end") or t1
    if t0 is not None and t1 is not None and t1 <= t0:
        raise QueryError("end", "must be after start")
    parties = _list(party)
    for p in parties:
        if p not in _PARTIES:
            raise QueryError("party", f"{p!r} is not one of {', '.join(_PARTIES)}")
    return Filters(
        start=t0,
        end=t1,
        bbox=_bbox(bbox),
        status=_list(status),
        party=parties,
        kind=_list(kind),
        sector=_list(sector),
        limit=min(_int(limit, "limit", DEFAULT_LIMIT, 1, 2**62), MAX_LIMIT),  # clamped, as OGC API Features asks
        offset=_int(offset, "offset", 0, 0, 2**62),
    )


# ----------------------------------------------------------------------------------- collections
#: Per collection: the statuses and kinds its ``status`` and ``kind`` filters accept (None: free text).
COLLECTIONS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "violations": {"status": tuple(VerificationStatus), "kind": None},
    "incidents": {"status": tuple(VerificationStatus), "kind": tuple(WeaponClass)},
    "events": {"status": (), "kind": tuple(EventKind)},
    "claims": {"status": tuple(ClaimVerdict), "kind": tuple(ViolationKind)},
    "sensors": {"status": (*tuple(SensorHealth), "not_installed"), "kind": tuple(SensorKind)},
}


def _values(name: str, key: str) -> tuple[str, ...] | None:
    vals = COLLECTIONS[name][key]
    return None if vals is None else tuple(str(v) for v in vals)
