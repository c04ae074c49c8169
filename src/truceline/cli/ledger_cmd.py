"""``truceline ledger``: the transparency log: keys, checkpoints, proofs, and offline verification.

The log of a store lives beside its keys (:func:`truceline.service.keys.key_home_of_url`): in the data
directory for SQLite (``DATA/ledger/``, private keys in ``DATA/secrets/ledger/``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from truceline.cli.common import (
    DEFAULT_DATA,
    EXIT_NOT_FOUND,
    DataDir,
    StoreUrl,
    app,
    fail,
    require_path,
    store_location,
    user_errors,
)

if TYPE_CHECKING:
    from truceline.ledger import CosignVerifier, Log, Verifier

ledger_app = typer.Typer(
    help="The transparency log: keygen, rotate, revoke, checkpoint, prove, verify (offline).", no_args_is_help=True
)
app.add_typer(ledger_app, name="ledger")

KeysFile = Annotated[
    Path, typer.Option("--keys", help="Pinned verifier keys, one name+keyid+base64 per line (# comments).")
]


def _home(data: Path, store: str | None) -> Path:
    """Where the store's log and keys are kept; exit 2 for a store in memory."""
    from truceline.service.keys import key_home_of_url

    option, location = store_location(data, store)
    with user_errors(2):
        home = key_home_of_url(location)
    if home is None:
        raise fail(f"{option}: a store in memory keeps no ledger", 2)
    return Path(home)


def _log(home: Path) -> Log:
    from truceline.ledger import Log

    if not Log.exists(home):
        raise fail(f"{home}: no ledger yet (truceline ledger keygen NAME makes it)", EXIT_NOT_FOUND)
    return Log.open(home)


@ledger_app.command()
def keygen(
    name: Annotated[str, typer.Argument(help="The key's name (no spaces, no '+'), e.g. mission.example/ledger.")],
    origin: Annotated[
        str | None, typer.Option(help="The log's origin when this key starts the log (default: the key's name).")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Make a signing key (kept 0600 under the data directory's secrets, never shown); print its verifier key.

    The log's first key becomes its signing key; later ones sign after ``truceline ledger rotate``.
    """
    from truceline.cli.common import open_store
    from truceline.ledger import keygen as make

    home = _home(data, store)
    open_store(data, store).close()  # the log is a store's: none made beside a mistyped --data (exit 2)
    with user_errors():
        v, active = make(home, name, origin)
    typer.echo(v.vkey)
    typer.echo(
        f"{v.label}: {'the signing key of the log' if active else 'kept; truceline ledger rotate makes it sign'}",
        err=True,
    )


@ledger_app.command()
def rotate(
    key: Annotated[str, typer.Argument(help="The kept key to sign from now on: NAME, NAME+KEYID or its verifier key.")],
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Hand signing to another key: an entry signed by the old key and the new, a checkpoint signed by both."""
    from truceline.ledger import rotate as turn

    home = _home(data, store)
    _log(home)
    with user_errors():
        old, new = turn(home, key)
    typer.echo(f"signing key: {old.label} -> {new.label}")


@ledger_app.command()
def revoke(
    key: Annotated[str, typer.Argument(help="NAME, NAME+KEYID (a kept key) or a verifier key.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the log).")],
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Record that a key must no longer be trusted (signed by the signing key); its private key is deleted."""
    from truceline.ledger import revoke as drop

    home = _home(data, store)
    _log(home)
    with user_errors():
        v = drop(home, key, reason)
    typer.echo(f"revoked: {v.label}")


@ledger_app.command()
def keys(data: DataDir = DEFAULT_DATA, store: StoreUrl = None) -> None:
    """The log's keys: the signing key, retired and revoked ones (verifier keys only)."""
    from truceline.ledger import key_state

    state = key_state(_log(_home(data, store)))
    typer.echo(f"signing  {state.active.vkey if state.active else '-'}")
    for v in state.retired:
        typer.echo(f"retired  {v.vkey}")
    for v in state.revoked:
        typer.echo(f"revoked  {v.vkey}")


@ledger_app.command()
def decisions(data: DataDir = DEFAULT_DATA, store: StoreUrl = None) -> None:
    """Log the analysts' decisions on findings the log does not hold yet (review actions log their own; this
    catches up on any a crash or a missing key left out)."""
    from truceline.cli.common import open_store
    from truceline.service.ledger_decisions import log_decisions

    _log(_home(data, store))
    st = open_store(data, store)
    try:
        with user_errors():
            n = log_decisions(st)
    finally:
        st.close()
    typer.echo(f"{n} decision(s) logged" if n else "the log holds every decision already")


@ledger_app.command()
def checkpoint(
    size: Annotated[
        int | None, typer.Option(help="The checkpoint signed at this size (default: the latest).", min=0)
    ] = None,
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Print the latest signed checkpoint (a C2SP signed note)."""
    log = _log(_home(data, store))
    note = log.latest_checkpoint() if size is None else log.checkpoint_at(size)
    if note is None:
        raise fail("no checkpoint signed" + ("" if size is None else f" at size {size}"), EXIT_NOT_FOUND)
    typer.echo(note, nl=False)


@ledger_app.command()
def prove(
    consistency: Annotated[
        tuple[int, int] | None, typer.Option("--consistency", help="OLD NEW: prove size OLD is a prefix of NEW.")
    ] = None,
    inclusion: Annotated[
        int | None, typer.Option("--inclusion", help="INDEX: prove entry INDEX is in the log.")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    store: StoreUrl = None,
) -> None:
    """Print a proof as JSON: consistency between two sizes (with their signed checkpoints when kept), or an
    entry's inclusion at the latest checkpoint."""
    from truceline.ledger.publish import consistency_doc, inclusion_doc

    if (consistency is None) == (inclusion is None):
        raise fail("give one of --consistency OLD NEW and --inclusion INDEX", 2)
    log = _log(_home(data, store))
    try:
        doc = consistency_doc(log, *consistency) if consistency is not None else inclusion_doc(log, inclusion or 0)
    except IndexError as exc:
        raise fail(f"{'--consistency' if consistency is not None else '--inclusion'}: {exc}", 2) from None
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def _consistency_doc(target: Path) -> dict[str, Any] | None:
    """The JSON of ``ledger prove --consistency`` when ``target`` is one, else None (a bundle or a folder)."""
    if not target.is_file() or target.name == "ledger-proof.json":
        return None
    try:
        doc = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and "proof" in doc and "format" not in doc else None


def _verify_consistency(doc: dict[str, Any], pinned: list[Verifier]) -> None:
    from truceline.ledger import verify_consistency_doc

    failures = verify_consistency_doc(doc, pinned)
    for f in failures:
        typer.echo(f"FAIL {f}", err=True)
    if failures:
        raise typer.Exit(1)
    typer.echo(f"ok: the log at size {doc.get('new')} extends the log at size {doc.get('old')}")


@app.command("verify")  # the name a party looks for first: `truceline verify BUNDLE|DIR --keys KEYS`
@ledger_app.command()
def verify(
    target: Annotated[
        Path, typer.Argument(help="A ledger-proof.json, a bulletin folder holding one, or ledger prove's JSON.")
    ],
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys", help="Pinned verifier keys, one name+keyid+base64 per line (# comments)."),
    ] = None,
    agreement: Annotated[
        str | None,
        typer.Option(
            help="An agreement (folder, manifest or example name) whose transparency block pins the "
            "log's keys, origin, witnesses and quorum; --keys, --origin, --witnesses, --quorum override."
        ),
    ] = None,
    origin: Annotated[str | None, typer.Option(help="The log's origin the checkpoint must name.")] = None,
    witnesses: Annotated[
        Path | None, typer.Option("--witnesses", help="Pinned witness keys (cosignature/v1), one per line.")
    ] = None,
    quorum: Annotated[
        int | None, typer.Option("--quorum", min=1, help="Cosignatures of pinned witnesses required (default: all).")
    ] = None,
) -> None:
    """Verify a bulletin offline against pinned keys: signature, inclusion of every file, every file's SHA-256;
    with witnesses, that a quorum of pinned witnesses cosigned its checkpoint (a bulletin counts as published
    only then).

    Exit 0 when everything verifies, 1 naming each failure, 2 for unreadable keys or a missing TARGET.
    """
    from truceline.ledger import verify_bundle

    require_path(target, "TARGET")
    pins = _pins(keys_file, agreement, origin, witnesses, quorum)
    doc = _consistency_doc(target)
    if doc is not None:
        _verify_consistency(doc, pins.keys)
        return
    rep = verify_bundle(target, pins.keys, pins.origin)
    failures, cosigned = list(rep.failures), ""
    if pins.witnesses is not None:
        quorum_failures, cosigned = _quorum(rep.bundle, pins.witnesses, pins.quorum)
        failures += quorum_failures
    for f in failures:
        typer.echo(f"FAIL {f}", err=True)
    if failures:
        raise typer.Exit(1)
    cp = rep.checkpoint
    assert cp is not None
    signers = ", ".join(v.label for v in rep.signed_by)
    typer.echo(f"ok: {rep.bulletin}: {rep.files} files in log {cp.origin} at size {cp.size}, signed by {signers}")
    if cosigned:
        typer.echo(f"ok: {cosigned}")


@dataclass
class _Pins:
    """What a verification pins: the log's keys and origin, the witnesses (None: not checked) and the quorum."""

    keys: list[Verifier]
    origin: str | None
    witnesses: list[CosignVerifier] | None
    quorum: int | None


def _pins(keys_file: Path | None, agreement: str | None, origin: str | None, witnesses: Path | None,
          quorum: int | None) -> _Pins:  # fmt: skip
    """The pins of the options, the agreement's transparency block filling what they leave (exit 2: bad keys)."""
    from truceline.ledger import NoteError, parse_vkey, read_keys, read_witness_keys
    from truceline.ledger.cosign import parse_cosign_vkey

    tr = None
    if agreement is not None:
        from truceline.agreement import AgreementError, load_agreement
        from truceline.cli.common import resolve_agreement

        try:
            tr = load_agreement(resolve_agreement(agreement)).transparency
        except (AgreementError, OSError) as exc:
            raise fail(f"--agreement: {exc}", 2) from None
        if tr is None:
            raise fail(f"--agreement {agreement}: it has no transparency block pinning the log's keys", 2)
    if keys_file is None and tr is None:
        raise fail("give --keys KEYS, or --agreement A whose transparency block pins them", 2)
    try:
        keys = read_keys(keys_file) if keys_file is not None else [parse_vkey(k) for k in tr.log_keys]  # type: ignore[union-attr]
    except (OSError, NoteError) as exc:
        raise fail(f"--keys: {exc}", 2) from None
    try:
        pinned = read_witness_keys(witnesses) if witnesses is not None else None
    except (OSError, NoteError) as exc:
        raise fail(f"--witnesses: {exc}", 2) from None
    if pinned is None and tr is not None and (tr.quorum or (quorum is not None and tr.witnesses)):
        pinned = [parse_cosign_vkey(k) for k in tr.witnesses]
        quorum = tr.quorum if quorum is None else quorum
    if quorum is not None and pinned is None:
        raise fail("--quorum needs --witnesses KEYS (or an agreement naming witnesses)", 2)
    if quorum is not None and pinned is not None and quorum > len(pinned):
        raise fail(f"--quorum {quorum}: more than the {len(pinned)} pinned witnesses", 2)
    return _Pins(keys, origin if origin is not None else (tr.origin if tr else None), pinned, quorum)


def _quorum(bundle: Path, pinned: list[CosignVerifier], quorum: int | None) -> tuple[list[str], str]:
    """The quorum's failures for a bundle's checkpoint, and a summary of who cosigned."""
    from truceline.ledger import check_quorum

    try:
        note = json.loads(bundle.read_text(encoding="utf-8"))["checkpoint"]
    except (OSError, ValueError, KeyError, TypeError):
        return ["cosignatures: no checkpoint to check"], ""
    rep = check_quorum(str(note), pinned, len(pinned) if quorum is None else quorum)
    return rep.failures, rep.summary()


@ledger_app.command()
def check(data: DataDir = DEFAULT_DATA, store: StoreUrl = None) -> None:
    """Recompute every entry's leaf hash and the latest checkpoint's root from the files (a full check)."""
    from truceline.ledger import LedgerCorrupt
    from truceline.ledger.note import unverified_checkpoint

    log = _log(_home(data, store))
    try:
        log.check()
    except LedgerCorrupt as exc:
        raise fail(str(exc), 1) from None
    latest = log.latest_checkpoint()
    if latest is not None:
        cp = unverified_checkpoint(latest)
        if cp.size > log.size or log.root(cp.size) != cp.root:
            raise fail(f"the latest checkpoint (size {cp.size}) does not match the log's entries", 1)
    typer.echo(f"ok: {log.size} entries, origin {log.origin}")
