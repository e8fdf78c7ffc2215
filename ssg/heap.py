"""Keeping a large loaded site out of the garbage collector's way.

Only the owner of the process manages its heap: the `ssg` command and the preview's build process pass
`Heap(owned=True)`; a program that calls build() itself keeps control of its own collector."""
from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True, slots=True)
class Heap:
    owned: bool = False

    def freeze(self) -> None:
        """The site as data lives until the build ends. Frozen, it is skipped by the collector's full passes,
        which otherwise walk 10,000 documents again and again (a fifth of a no-change build), and forked
        workers share its memory pages instead of copying those the collector would have touched."""
        if self.owned:
            gc.freeze()

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """No collection while a burst of long-lived objects is made (the cache's 10,000 entries): each
        pass would walk them all again only to find them alive."""
        if not self.owned or not gc.isenabled():
            yield
            return
        gc.disable()
        try:
            yield
        finally:
            gc.enable()

    def release(self) -> None:
        """What the build held may be garbage now: let the collector have it again."""
        if self.owned:
            gc.unfreeze()
