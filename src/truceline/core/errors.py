"""Errors raised when a record is built from untrusted input, and the domain errors of every layer.

The domain errors (:class:`NotFound`, :class:`InvalidInput`, :class:`Conflict`, :class:`Forbidden`)
say what went wrong in the user's terms; the API maps each to one HTTP status in one table
(``api/errors.py``) and the CLI to one exit code. Any other exception is a programming error: a
logged 500, never a 404 or 422 that would blame the client.

:class:`RecordError` names the record type, the exact field (a dotted path such as
``"count.low"`` or ``"class_scores.impact"``; list items as ``"detection_ids[2]"``), the bad
value and the reason, so that an ingest error can be reported as "file, line, field".
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "MISSING",
    "Conflict",
    "DomainError",
    "FieldProblem",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "RecordError",
]


class DomainError(Exception):
    """An error the user caused or must act on (not a bug): the base of the four kinds below."""


class NotFound(DomainError, LookupError):
    """An unknown record, layer, bulletin, kind, token or file (HTTP 404)."""


class InvalidInput(DomainError, ValueError):
    """Input that is well formed but wrong: a bad field, parameter or value (HTTP 422, or 400 for a query)."""


class Conflict(DomainError):
    """The action does not fit the present state of the record (HTTP 409)."""


class Forbidden(DomainError, PermissionError):
    """The caller's role may not do this (HTTP 403)."""


class _Missing:
    """Sentinel for a required field that was not given."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
"""The ``value`` of a :class:`RecordError` for a required field that is absent."""


class FieldProblem(ValueError):
    """Raised inside a model validator to blame one specific field.

    Pydantic reports errors of a model-level validator at the model itself; this exception
    carries the field path (relative to the model) and the offending value so that the
    public parse API can name them.

    Parameters
    ----------
    field : str
        Dotted path relative to the model being validated, e.g. ``"low"``.
    value : object
        The offending value.
    reason : str
        Why it is wrong, short and lowercase, e.g. ``"low (5) > best (3)"``.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason


class RecordError(ValueError):
    """A record could not be built from its input.

    Parameters
    ----------
    record_type : str
        Class name of the record, e.g. ``"Detection"``.
    field : str
        Dotted path of the bad field, e.g. ``"count.low"``; ``""`` for the whole record.
    value : object
        The bad input value (:data:`MISSING` for an absent required field).
    reason : str
        Why it is wrong, e.g. ``"time has no timezone"``.
    errors : list of tuple, optional
        Every problem found, as ``(field, value, reason)``; the first is the one above.
    record_id : str, optional
        Id of the record, if known, to help locate it.

    Examples
    --------
    >>> str(RecordError("Detection", "arrival_time", "2025-01-01T00:00:00",
    ...                 "time has no timezone"))
    "Detection.arrival_time: '2025-01-01T00:00:00' — time has no timezone"
    """

    def __init__(
        self,
        record_type: str,
        field: str,
        value: Any,
        reason: str,
        *,
        errors: list[tuple[str, Any, str]] | None = None,
        record_id: str | None = None,
    ) -> None:
        self.record_type = record_type
        self.field = field
        self.value = value
        self.reason = reason
        self.errors: list[tuple[str, Any, str]] = (
            list(errors) if errors else [(field, value, reason)]
        )
        self.record_id = record_id
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.record_type}.{self.field}" if self.field else self.record_type
        text = f"{where}: {_short_repr(self.value)} — {self.reason}"
        if self.record_id is not None:
            text += f" (record {self.record_id!r})"
        if len(self.errors) > 1:
            text += f" (+{len(self.errors) - 1} more)"
        return text

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                self.record_type,
                self.field,
                self.value,
                self.reason,
                self.errors,
                self.record_id,
            ),
        )


def _rebuild(
    record_type: str,
    field: str,
    value: Any,
    reason: str,
    errors: list[tuple[str, Any, str]],
    record_id: str | None,
) -> RecordError:
    return RecordError(record_type, field, value, reason, errors=errors, record_id=record_id)


def _short_repr(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
