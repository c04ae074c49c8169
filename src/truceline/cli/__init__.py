"""The ``truceline`` command line: one module per command group, what they share in :mod:`.common`.

Each group module registers its commands on :data:`truceline.cli.common.app` when imported; this
package imports them in the order ``truceline --help`` lists them (the chain's order).
"""

from __future__ import annotations

import importlib

from truceline.cli.common import app

__all__ = ["GROUPS", "app", "main"]

#: The command group modules, in the order of the help: version and agreement, the twin and fusion,
#: the store, review, the bulletin, the API, the demo.
GROUPS = (
    "agreement", "run", "store", "reprocess_cmd", "store_cmd", "review", "quarantine", "listen_cmd", "report",
    "ledger_cmd", "witness_cmd", "api", "tak_cmd", "demo",
)  # fmt: skip
for _group in GROUPS:
    importlib.import_module(f"truceline.cli.{_group}")


def main() -> None:
    """Entry point of the ``truceline`` script."""
    app()
