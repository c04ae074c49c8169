"""The HTTP API: FastAPI over the service layer, OGC API Features, token auth with roles (docs/api.md)."""

from truceline.api.app import create_app

__all__ = ["create_app"]
