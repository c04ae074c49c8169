"""Merkle tree hashing, proofs and their verification, as RFC 6962 / RFC 9162 (section 2.1) define them.

The tree over ``n`` leaves ``D[0:n]`` (each leaf a byte string):

- ``MTH({}) = SHA-256()`` (the empty string's hash);
- ``MTH({d}) = SHA-256(0x00 || d)`` (a leaf);
- ``MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` with ``k`` the largest power of two
  smaller than ``n`` (an interior node).

Proofs are computed from any function ``mth(lo, hi)`` giving the hash of the subtree over the leaves
``lo <= i < hi`` (a list in memory: :func:`subtree_hasher`; the log on disk:
:meth:`truceline.ledger.log.Log.subtree`), so the same code serves both. The verification functions
follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step; they take hashes, never the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_BYTES",
    "Hasher",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_of",
    "split",
    "subtree_hasher",
    "verify_consistency",
    "verify_inclusion",
]

HASH_BYTES = 32
#: The root of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: ``mth(lo, hi)``: the hash of the subtree over leaves ``lo <= i < hi`` (``hi > lo``).
Hasher = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of a leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``): where the tree over ``n`` leaves splits."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root (MTH) of the tree whose leaves have the hashes ``leaf_hashes``, in order."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def subtree_hasher(leaf_hashes: Sequence[bytes]) -> Hasher:
    """An ``mth(lo, hi)`` over leaf hashes held in memory."""
    return lambda lo, hi: root_of(leaf_hashes[lo:hi])


def inclusion_proof(index: int, size: int, mth: Hasher) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 section 2.1.1, PATH).

    Parameters
    ----------
    index : int
        The leaf, ``0 <= index < size``.
    size : int
        The tree size.
    mth : Hasher
        The subtree hashes of the tree (any tree of at least ``size`` leaves).

    Returns
    -------
    list of bytes
        The sibling hashes from the leaf's level up to the root's children.

    Raises
    ------
    ValueError
        For an index outside the tree.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            path.append(mth(lo + k, hi))
            hi = lo + k
        else:
            path.append(mth(lo, lo + k))
            lo += k
    return path[::-1]


def consistency_proof(old: int, new: int, mth: Hasher) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the tree of ``new`` (RFC 6962 section 2.1.2).

    Empty when ``old`` is 0 or equal to ``new``.

    Raises
    ------
    ValueError
        Unless ``0 <= old <= new``.
    """
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, new, old, True  # SUBPROOF(m, D[lo:hi], whole)
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                proof.append(mth(lo, hi))
            break
        k = split(n)
        if m <= k:
            proof.append(mth(lo + k, hi))
            hi = lo + k
        else:
            proof.append(mth(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    return proof[::-1]


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until ``fn`` is odd or 0 (RFC 9162 2.1.3.2 step 4.b.2)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """Whether ``path`` proves that the leaf with hash ``leaf`` is leaf ``index`` of the tree of ``size``
    leaves with root ``root`` (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` proves that the tree of ``old`` leaves with root ``old_root`` is a prefix of the
    tree of ``new`` leaves with root ``new_root`` (RFC 9162 section 2.1.4.2).

    Equal sizes need an empty proof and equal roots; size 0 (the empty tree, root :data:`EMPTY_ROOT`) is a
    prefix of every tree, with an empty proof.
    """
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old tree is a subtree of the new one
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
