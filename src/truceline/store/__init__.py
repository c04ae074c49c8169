"""Storage: the Store protocol, its backends (SQLite embedded by default) and the registry that opens one by URL."""

from truceline.store.base import (
    DERIVED_KINDS,
    AddResult,
    AuditEntry,
    Derived,
    QuarantineEntry,
    ScopeState,
    Store,
    StoredRecordError,
)
from truceline.store.registry import Backend, open_store, register
from truceline.store.sqlite import SQLiteStore

__all__ = [
    "DERIVED_KINDS",
    "AddResult",
    "AuditEntry",
    "Backend",
    "Derived",
    "QuarantineEntry",
    "SQLiteStore",
    "ScopeState",
    "Store",
    "StoredRecordError",
    "open_store",
    "register",
]
