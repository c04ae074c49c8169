"""Merkle hashing and proofs: the RFC 6962 reference vectors (Certificate Transparency's test data), an
independent recursive implementation of the RFC's definitions, and every leaf / every pair of sizes up
to 64, with every proof rejected once altered."""

from __future__ import annotations

import hashlib

import pytest

from truceline.ledger import merkle

# The reference leaves and tree heads of RFC 6962's reference implementation (certificate-transparency).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path)
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
# (old size, new size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
MAX = 64


# -- an independent implementation, straight from the RFC's recursive definitions -------------------
def _mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    return [*_path(m, d[:k]), _mth(d[k:])] if m < k else [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


DATA = [f"entry {i}".encode() for i in range(MAX)]
HASHES = [merkle.leaf_hash(x) for x in DATA]
MTH = merkle.subtree_hasher(HASHES)
TREE_ROOTS = [merkle.root_of(HASHES[:n]) for n in range(MAX + 1)]


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_reference_tree_heads() -> None:
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    for n in range(len(LEAVES) + 1):
        assert merkle.root_of(hashes[:n]).hex() == ROOTS[n], n


def test_reference_inclusion_proofs() -> None:
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    for index, size, path in INCLUSION:
        proof = merkle.inclusion_proof(index, size, merkle.subtree_hasher(hashes))
        assert [p.hex() for p in proof] == path, (index, size)
        assert merkle.verify_inclusion(index, size, hashes[index], proof, bytes.fromhex(ROOTS[size]))


def test_reference_consistency_proofs() -> None:
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    for old, new, path in CONSISTENCY:
        proof = merkle.consistency_proof(old, new, merkle.subtree_hasher(hashes))
        assert [p.hex() for p in proof] == path, (old, new)
        assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_roots_equal_the_independent_definition_for_every_size() -> None:
    for n in range(MAX + 1):
        assert TREE_ROOTS[n] == _mth(DATA[:n]), n


def test_every_leaf_of_every_size_proves_and_alterations_fail() -> None:
    for size in range(1, MAX + 1):
        root = TREE_ROOTS[size]
        for i in range(size):
            proof = merkle.inclusion_proof(i, size, MTH)
            assert proof == _path(i, DATA[:size]), (i, size)
            assert merkle.verify_inclusion(i, size, HASHES[i], proof, root), (i, size)
            assert not merkle.verify_inclusion(i, size, _flip(HASHES[i]), proof, root)
            assert not merkle.verify_inclusion(i, size, HASHES[i], proof, _flip(root))
            assert not merkle.verify_inclusion(i, size, HASHES[i], [*proof, HASHES[0]], root)
            for j in range(size):
                if j != i:
                    assert not merkle.verify_inclusion(j, size, HASHES[i], proof, root), (i, j, size)
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                assert not merkle.verify_inclusion(i, size, HASHES[i], bad, root)
            if proof:
                assert not merkle.verify_inclusion(i, size, HASHES[i], proof[:-1], root)


def test_every_pair_of_sizes_is_consistent_and_alterations_fail() -> None:
    for new in range(1, MAX + 1):
        for old in range(0, new + 1):
            proof = merkle.consistency_proof(old, new, MTH)
            expected = [] if old in (0, new) else _subproof(old, DATA[:new], True)
            assert proof == expected, (old, new)
            assert merkle.verify_consistency(old, new, TREE_ROOTS[old], TREE_ROOTS[new], proof), (old, new)
            if old > 0:  # the empty tree is a prefix of every tree
                assert not merkle.verify_consistency(old, new, TREE_ROOTS[old], _flip(TREE_ROOTS[new]), proof)
            if 0 < old < new:
                assert not merkle.verify_consistency(old, new, _flip(TREE_ROOTS[old]), TREE_ROOTS[new], proof)
                assert not merkle.verify_consistency(old, new, TREE_ROOTS[old], TREE_ROOTS[new], proof[:-1])
                assert not merkle.verify_consistency(old + 1, new, TREE_ROOTS[old], TREE_ROOTS[new], proof)
                for k in range(len(proof)):
                    bad = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                    assert not merkle.verify_consistency(old, new, TREE_ROOTS[old], TREE_ROOTS[new], bad), (old, new, k)


def test_a_rewritten_history_is_not_consistent() -> None:
    forked = [*HASHES[:10], merkle.leaf_hash(b"changed"), *HASHES[11:40]]
    proof = merkle.consistency_proof(20, 40, merkle.subtree_hasher(forked))
    assert not merkle.verify_consistency(20, 40, TREE_ROOTS[20], merkle.root_of(forked), proof)


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_inclusion_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(index, size, MTH)
    assert not merkle.verify_inclusion(index, size, HASHES[0], [], TREE_ROOTS[1])


def test_consistency_edge_cases() -> None:
    with pytest.raises(ValueError):
        merkle.consistency_proof(5, 4, MTH)
    assert not merkle.verify_consistency(5, 4, TREE_ROOTS[5], TREE_ROOTS[4], [])
    assert not merkle.verify_consistency(3, 5, TREE_ROOTS[3], TREE_ROOTS[5], [])
    assert not merkle.verify_consistency(4, 4, TREE_ROOTS[4], TREE_ROOTS[4], [HASHES[0]])
    assert not merkle.verify_consistency(0, 4, TREE_ROOTS[1], TREE_ROOTS[4], [])
