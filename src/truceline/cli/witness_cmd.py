"""``truceline ledger witness`` (a party's or a third state's witness) and ``truceline ledger cosignatures``
(the mission attaching the witnesses' cosignatures to its checkpoints and bulletins' bundles).

A witness keeps its key and state in its own folder (``--home``), not in the mission's data directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from truceline.cli.common import DEFAULT_DATA, DataDir, StoreUrl, fail, user_errors
from truceline.cli.ledger_cmd import _home, _log, ledger_app

if TYPE_CHECKING:
    from truceline.ledger import CosignVerifier, Verifier

witness_app = typer.Typer(
    help="A witness: its key, cosigning the log's checkpoints, comparing two checkpoints.", no_args_is_help=True
)
ledger_app.add_typer(witness_app, name="witness")
cosignatures_app = typer.Typer(help="Attach witnesses' cosignatures to checkpoints and bundles.", no_args_is_help=True)
ledger_app.add_typer(cosignatures_app, name="cosignatures")

Home = Annotated[Path, typer.Option("--home", help="The witness's own folder (key and state).")]
LogKeys = Annotated[
    Path, typer.Option("--log-key", help="The log's pinned verifier keys, one name+keyid+base64 per line.")
]


def _log_keys(path: Path) -> list[Verifier]:
    from truceline.ledger import NoteError, read_keys

    try:
        return read_keys(path)
    except (OSError, NoteError) as exc:
        raise fail(f"--log-key: {exc}", 2) from None


def _witness_keys(path: Path) -> list[CosignVerifier]:
    from truceline.ledger import NoteError, read_witness_keys

    try:
        return read_witness_keys(path)
    except (OSError, NoteError) as exc:
        raise fail(f"--witnesses: {exc}", 2) from None


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{what}: cannot read {path} ({exc})", 2) from None


def _proof(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        doc = json.loads(_read(path, "--proof"))
    except ValueError:
        raise fail(f"--proof: {path} is not JSON (truceline ledger prove --consistency OLD NEW)", 2) from None
    if not isinstance(doc, dict):
        raise fail(f"--proof: {path} is not a consistency proof", 2)
    return doc


@witness_app.command("keygen")
def witness_keygen(
    name: Annotated[str, typer.Argument(help="The witness's name (no spaces, no '+'), e.g. ua.example/witness.")],
    home: Home,
) -> None:
    """Make the witness's key (0600 in a 0700 folder under --home, never shown); print its verifier key."""
    from truceline.ledger import witness_keygen as make

    with user_errors():
        v = make(home, name)
    typer.echo(v.vkey)
    typer.echo(f"{v.label}: the witness key; give the line above to be pinned in the agreement", err=True)


@witness_app.command("cosign")
def witness_cosign(
    home: Home,
    checkpoint: Annotated[Path, typer.Option("--checkpoint", help="The log's signed checkpoint (a file).")],
    log_key: LogKeys,
    proof: Annotated[
        Path | None,
        typer.Option("--proof", help="truceline ledger prove --consistency OLD NEW, OLD the size last cosigned."),
    ] = None,
    origin: Annotated[str | None, typer.Option(help="The log's origin the checkpoint must name.")] = None,
) -> None:
    """Check a checkpoint (the log's signature, consistency with the last one cosigned) and cosign it.

    Prints the cosigned checkpoint. Exit 1 saying why when refused: older, inconsistent, or a SPLIT VIEW
    (kept as evidence under --home).
    """
    from truceline.ledger import WitnessRefusal, cosign

    keys = _log_keys(log_key)
    note = _read(checkpoint, "--checkpoint")
    doc = _proof(proof)
    with user_errors():
        try:
            out = cosign(home, note, keys, doc, origin=origin)
        except WitnessRefusal as exc:
            raise fail(f"refused: {exc}", 1) from None
    typer.echo(out, nl=False)


@witness_app.command("compare")
def witness_compare(
    a: Annotated[Path, typer.Argument(help="A signed checkpoint.")],
    b: Annotated[Path, typer.Argument(help="Another signed checkpoint of the same log.")],
    log_key: LogKeys,
    proof: Annotated[
        Path | None, typer.Option("--proof", help="truceline ledger prove --consistency SMALL LARGE.")
    ] = None,
) -> None:
    """Say whether two checkpoints of one log are consistent or a SPLIT VIEW.

    Exit 0 consistent, 1 split view (or a signature that fails), 3 undecided (sizes differ, no proof).
    """
    from truceline.ledger import WitnessRefusal, compare

    keys = _log_keys(log_key)
    try:
        res = compare(_read(a, "A"), _read(b, "B"), keys, _proof(proof))
    except WitnessRefusal as exc:
        raise fail(f"FAIL {exc}", 1) from None
    if res.status == "split-view":
        raise fail(res.message, 1)
    typer.echo(res.message)
    if res.status != "consistent":
        raise typer.Exit(3)


@cosignatures_app.command("add")
def cosignatures_add(
    files: Annotated[list[Path], typer.Argument(help="Cosigned checkpoints, as witness cosign prints them.")],
    witnesses: Annotated[Path, typer.Option("--witnesses", help="The pinned witness keys, one per line.")],
    bundle: Annotated[
        list[Path] | None,
        typer.Option("--bundle", help="A bulletin folder or ledger-proof.json (default: every one under DATA)."),
    ] = None,
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Attach witnesses' valid cosignatures to the log's kept checkpoints and to bulletins' proof bundles.

    A bundle gets the cosignatures of its own checkpoint or, when it has none, those of the smallest
    cosigned checkpoint that extends it (its inclusion proofs recomputed at that size).
    """
    from truceline.ledger import PROOF_FILE, attach

    home = _home(data, store)
    _log(home)
    pinned = _witness_keys(witnesses)
    notes = [_read(f, "cosigned checkpoint") for f in files]
    if bundle:
        bundles = [b / PROOF_FILE if b.is_dir() else b for b in bundle]
    else:
        bundles = sorted(Path(data).glob(f"bulletins/*/{PROOF_FILE}"))
    with user_errors():
        rep = attach(home, notes, pinned, bundles)
    for size, n in sorted(rep.checkpoints.items()):
        typer.echo(f"checkpoint {size}: +{n} cosignatures")
    for path, n in rep.bundles.items():
        typer.echo(f"{path}: +{n} cosignatures")
