"""The mission's transparency log: append-only, Merkle-hashed (RFC 6962 / 9162), checkpoints signed with
Ed25519 as C2SP signed notes, inclusion and consistency proofs, and proof bundles a party verifies
offline against pinned keys. The format, step by step: docs/ledger.md.

- :mod:`.merkle`: hashing, tree shape, proofs and their verification (pure functions);
- :mod:`.note`: keys, key ids, signed notes, checkpoints;
- :mod:`.log`: the log on disk, crash-safe;
- :mod:`.keys`: the signing keys (0600 files) and their life in the log (init, rotation, revocation);
- :mod:`.publish`: a bulletin's files into the log, its proof bundle into its folder;
- :mod:`.verify`: a bundle checked offline;
- :mod:`.cosign`: witnesses' cosignatures (C2SP tlog-cosignature) and the quorum;
- :mod:`.witness`: a witness's key, state, cosigning and split-view detection.
"""

from __future__ import annotations

from truceline.ledger.cosign import CosignVerifier, QuorumReport, attach, check_quorum, read_witness_keys
from truceline.ledger.keys import KeyState, active_signer, key_state, keygen, revoke, rotate
from truceline.ledger.log import LedgerCorrupt, Log
from truceline.ledger.note import Checkpoint, NoteError, Signer, Verifier, parse_checkpoint, parse_vkey
from truceline.ledger.publish import PROOF_FILE, log_bulletin
from truceline.ledger.verify import BundleReport, read_keys, verify_bundle, verify_consistency_doc
from truceline.ledger.witness import Comparison, WitnessRefusal, compare, cosign, witness_keygen

__all__ = [
    "PROOF_FILE",
    "BundleReport",
    "Checkpoint",
    "Comparison",
    "CosignVerifier",
    "KeyState",
    "LedgerCorrupt",
    "Log",
    "NoteError",
    "QuorumReport",
    "Signer",
    "Verifier",
    "WitnessRefusal",
    "active_signer",
    "attach",
    "check_quorum",
    "compare",
    "cosign",
    "key_state",
    "keygen",
    "log_bulletin",
    "parse_checkpoint",
    "parse_vkey",
    "read_keys",
    "read_witness_keys",
    "revoke",
    "rotate",
    "verify_bundle",
    "verify_consistency_doc",
    "witness_keygen",
]
