"""What Find learned about a photo, kept so the next query on it is one text encoding away.

Entries are keyed by a hash of the pixels (plus the models that made them), so a
repainted photo is a new key. Masks are stored bit-packed; the cache is bounded
by bytes and evicts the least recently used photo. Besides SegCLIP's proposals it holds
each photo's Segment Anything image embedding (sam_embedding.py), for every SAM method.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ...core.box import Box


def photo_key(image: np.ndarray, *parts: str) -> str:
    """A digest of the pixels and shape (about 30 ms for 24 megapixels) and of `parts`."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((image.shape, image.dtype.str, parts)).encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


@dataclass(frozen=True)
class PhotoEntry:
    packed_masks: np.ndarray  # N x ceil(h*w/8) uint8, np.packbits of each working-size mask
    mask_shape: tuple[int, int]  # (h, w) of the working copy
    boxes: tuple[Box, ...]  # full-resolution boxes, one per mask
    image_rows: np.ndarray  # N x D unit CLIP embeddings of the masks' crops

    @classmethod
    def from_masks(
        cls, masks: np.ndarray, boxes: tuple[Box, ...], image_rows: np.ndarray
    ) -> PhotoEntry:
        count, h, w = masks.shape
        return cls(
            np.packbits(masks.reshape(count, h * w).astype(bool), axis=1), (h, w), boxes, image_rows
        )

    def mask(self, index: int) -> np.ndarray:
        """Proposal `index` as an h x w uint8 mask, 255 inside."""
        h, w = self.mask_shape
        bits = np.unpackbits(self.packed_masks[index], count=h * w)
        return (bits.reshape(h, w) * np.uint8(255)).astype(np.uint8)

    @property
    def nbytes(self) -> int:
        return self.packed_masks.nbytes + self.image_rows.nbytes


class Entry(Protocol):
    @property
    def nbytes(self) -> int: ...


class PhotoCache:
    def __init__(self, max_bytes: int = 256 * 2**20, max_photos: int = 8) -> None:
        self.max_bytes = max_bytes
        self.max_photos = max_photos
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > 1 and (
            len(self._entries) > self.max_photos or self.nbytes > self.max_bytes
        ):
            self._entries.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(entry.nbytes for entry in self._entries.values())

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
