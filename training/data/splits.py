"""Leak-free splits: near-duplicates (difference hash) and frames of one clip share a group, and a group goes to
one split only; sources with their own Train/Validation/Test keep them."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from pipeline import constants as C


class UnionFind:
    """Disjoint sets over 0..n-1."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        """The representative of i's set."""
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        """Merge the sets of a and b."""
        self.parent[self.find(a)] = self.find(b)


def hash_words(hashes) -> np.ndarray:
    """Hex hashes as an N x words uint64 array."""
    return np.stack([np.frombuffer(bytes.fromhex(h), dtype=np.uint64) for h in hashes])


def near_duplicate_pairs(hashes: np.ndarray, max_distance: int = C.MIX_NEAR_DUPLICATE_BITS) -> list[tuple[int, int]]:
    """Index pairs (i < j) whose hashes (N x words uint64) differ in at most max_distance bits."""
    pairs = []
    for i in range(len(hashes) - 1):
        distances = np.bitwise_count(np.bitwise_xor(hashes[i + 1:], hashes[i])).sum(axis=1)
        pairs += [(i, i + 1 + int(j)) for j in np.flatnonzero(distances <= max_distance)]
    return pairs


def group_ids(records: pd.DataFrame) -> np.ndarray:
    """A group id per record: same clip or near-duplicate pixels (transitively) means same group."""
    n = len(records)
    sets = UnionFind(n)
    first_of: dict[str, int] = {}
    for i, key in enumerate(records["group"]):
        sets.union(i, first_of.setdefault(key, i))
    for i, j in near_duplicate_pairs(hash_words(records["phash"])):
        sets.union(i, j)
    return np.array([sets.find(i) for i in range(n)])


def split_of(key: str, validation: float, test: float) -> str:
    """A stable split for a group key, from its hash."""
    position = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "Test" if position < test else "Validation" if position < test + validation else "Train"


def assign_splits(records: pd.DataFrame, validation: float, test: float) -> pd.DataFrame:
    """Fill `split` for records without one; a whole group follows its first record's key (or fixed split)."""
    records = records.reset_index(drop=True).copy()
    groups = group_ids(records)
    fixed: dict[int, str] = {}
    for group, split in zip(groups, records["split"]):
        if split:
            fixed.setdefault(group, split)
    keys = {g: records["group"].iloc[i] for i, g in reversed(list(enumerate(groups)))}
    records["split"] = [split or fixed.get(g) or split_of(keys[g], validation, test)
                        for g, split in zip(groups, records["split"])]
    records["group_id"] = groups
    return records
