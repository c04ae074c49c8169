"""Application use cases over the store: ingest, process, review, export, queries, tokens. No web imports."""
