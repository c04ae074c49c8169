"""Storage: the Store protocol and its backends (SQLite embedded by default)."""

from truceline.store.base import DERIVED_KINDS, AddResult, AuditEntry, Derived, ScopeState, Store
from truceline.store.sqlite import SQLiteStore

__all__ = ["DERIVED_KINDS", "AddResult", "AuditEntry", "Derived", "SQLiteStore", "ScopeState", "Store"]
