"""Building blocks of the codebook records: base classes and constrained field types.

Every record is an immutable pydantic model (``frozen=True, extra="forbid"``). Numbers are
strict (no strings, no booleans, finite only), times are timezone-aware and normalised to UTC,
and mappings are immutable :class:`FrozenMap` objects, so a record is hashable and cannot be
changed after it was validated.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Generic, TypeVar, get_args

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    PlainValidator,
)
from pydantic_core import core_schema

from truceline.core.ids import ID_PATTERN, ID_REGEX

__all__ = [
    "Bearing",
    "CountryCode",
    "FiniteFloat",
    "FrozenMap",
    "FrozenModel",
    "HttpUrl",
    "JsonParam",
    "JsonParams",
    "JsonScalar",
    "JsonValue",
    "NonEmptyStr",
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "Probability",
    "Record",
    "RecordId",
    "Text",
    "UtcDatetime",
    "parse_utc",
]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable, hashable mapping (used for ``class_scores``, ``parameters``...).

    Compares equal to any mapping with the same items. Serialised as a JSON object.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data) if data is not None else {}
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        args = get_args(source)
        key_type, value_type = args if len(args) == 2 else (Any, Any)
        dict_schema = handler.generate_schema(dict[key_type, value_type])  # type: ignore[valid-type]
        return core_schema.no_info_after_validator_function(
            cls,
            dict_schema,
            serialization=core_schema.plain_serializer_function_ser_schema(
                dict, return_schema=dict_schema
            ),
        )


class FrozenModel(BaseModel):
    """Base of every codebook value object: immutable, no unknown fields, finite floats."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


# --------------------------------------------------------------------------- times


_ISO_CHARS = frozenset("0123456789-:+.,TZW ")


def parse_utc(value: Any) -> dt.datetime:
    """An ISO 8601 string with an offset (or an aware datetime) as an aware UTC datetime.

    The one time parser of every reader (the codebook records and the bulk detections reader):
    a value it refuses is refused on every path.

    Raises
    ------
    ValueError
        ``"not an ISO 8601 date-time"``, ``"time has no timezone"`` (a naive time or a date
        alone), or ``"time out of range ..."`` when the time in UTC falls outside years 1-9999
        (``0001-01-01T00:30:00+01:00``); never ``OverflowError``.
    """
    if isinstance(value, str):
        if not set(value.strip()) <= _ISO_CHARS:  # fromisoformat takes any character as the separator
            raise ValueError("not an ISO 8601 date-time")
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except (ValueError, OverflowError):
            raise ValueError("not an ISO 8601 date-time") from None
    elif not isinstance(value, dt.datetime):
        raise ValueError(f"expected an ISO 8601 string or datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time has no timezone")
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError("time out of range (in UTC it falls outside years 1-9999)") from None


_to_utc = parse_utc


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="microseconds")


UtcDatetime = Annotated[
    dt.datetime,
    BeforeValidator(_to_utc),
    PlainSerializer(_iso, return_type=str, when_used="json"),
]
"""A timezone-aware datetime, normalised to UTC (microsecond resolution).

Accepts an aware :class:`datetime.datetime` or an ISO 8601 string with an offset (``Z`` or
``+02:00``); a naive time is refused ("time has no timezone"). JSON form:
``2025-04-20T06:00:00.000000+00:00``.
"""

# --------------------------------------------------------------------------- numbers


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        raise ValueError("expected a number, got a boolean")
    return value


def _integral(value: Any) -> Any:
    value = _no_bool(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, int):
        return int(value)  # e.g. numpy.int64
    return value


_Real = BeforeValidator(_no_bool)

FiniteFloat = Annotated[float, _Real, Field(strict=True, allow_inf_nan=False)]
"""A finite float; ints and NumPy scalars accepted, strings and booleans refused."""
NonNegativeFloat = Annotated[float, _Real, Field(strict=True, allow_inf_nan=False, ge=0.0)]
PositiveFloat = Annotated[float, _Real, Field(strict=True, allow_inf_nan=False, gt=0.0)]
Probability = Annotated[float, _Real, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)]
"""A probability or score in [0, 1] (dimensionless)."""
Bearing = Annotated[float, _Real, Field(strict=True, allow_inf_nan=False, ge=0.0, lt=360.0)]
"""A bearing in degrees clockwise from true north, in [0, 360)."""
NonNegativeInt = Annotated[int, BeforeValidator(_integral), Field(strict=True, ge=0)]
"""An int >= 0; NumPy integers accepted, floats (even 4.0), strings and booleans refused."""

# --------------------------------------------------------------------------- strings


def _check_id(value: str) -> str:
    if ID_REGEX.fullmatch(value) is None:
        raise ValueError(f"not a valid id (must match {ID_PATTERN})")
    return value


def _check_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


RecordId = Annotated[str, Field(strict=True), AfterValidator(_check_id)]
"""A record id matching :data:`truceline.core.ids.ID_PATTERN`."""
NonEmptyStr = Annotated[str, Field(strict=True), AfterValidator(_check_not_blank)]
Text = Annotated[str, Field(strict=True)]
CountryCode = Annotated[str, Field(strict=True, pattern=r"^[A-Z]{2,3}$")]
"""ISO 3166-1 alpha-2 or alpha-3 country code, upper case (e.g. ``"GB"``, ``"FRA"``)."""
HttpUrl = Annotated[str, Field(strict=True, pattern=r"^https?://\S+$", max_length=2048)]

# --------------------------------------------------------------------------- JSON parameters

JsonScalar = str | int | float | bool | None
JsonValue = JsonScalar | tuple[JsonScalar, ...]


def _check_json_scalar(value: Any) -> JsonScalar:
    if isinstance(value, np.generic) and not isinstance(value, np.str_ | np.bytes_):
        value = value.item()  # NumPy scalar -> Python bool/int/float
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    raise ValueError(f"expected a JSON scalar or list, got {type(value).__name__}")


def _check_json_value(value: Any) -> JsonValue:
    if isinstance(value, list | tuple):
        return tuple(_check_json_scalar(item) for item in value)
    return _check_json_scalar(value)


def _dump_json_value(value: JsonValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


JsonParam = Annotated[
    JsonValue,
    PlainValidator(_check_json_value),
    PlainSerializer(_dump_json_value, when_used="json"),
]
"""A parameter value: a JSON scalar (str, int, finite float, bool, null) or a list of them."""
JsonParams = FrozenMap[str, JsonParam]
"""Immutable mapping of parameter name to :data:`JsonParam`."""


class Record(FrozenModel):
    """Base of every id-bearing codebook record.

    Attributes
    ----------
    id : str
        Record id matching :data:`truceline.core.ids.ID_PATTERN`; content-derived ids come
        from :func:`truceline.core.ids.make_id`.
    """

    RECORD_TYPE: ClassVar[str] = ""

    id: RecordId
