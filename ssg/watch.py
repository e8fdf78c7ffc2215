"""Watch a site's inputs with watchdog and hand the preview server one batch of changed paths per burst."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .sources import is_ignored

# Events that mean a file's bytes or its existence changed. Reads by the build itself produce
# "opened" and "closed_no_write" events; reacting to those would rebuild for ever.
CHANGE_EVENTS = frozenset({"created", "modified", "deleted", "moved"})
OUTPUT_FOLDERS = frozenset({"_site", ".ssg-cache"})


class ChangeQueue:
    """Collects changed paths from the watcher thread; take_burst() waits for a quiet moment, then returns them all.

    A path added while the caller is rebuilding stays queued for the next take_burst(), so no change is missed.
    """

    def __init__(self, quiet: float = 0.02, cap: float = 3.0):
        self.quiet = quiet          # seconds without events that end a burst (an editor save is several events)
        self.cap = cap              # longest wait, so a never-ending stream of events still rebuilds
        self.busy = 10              # from this many files on it looks like a checkout: wait 4 x longer for the rest
        self._changed: dict[str, tuple[Path, bool]] = {}   # name -> (path, its first event created it)
        self._first = self._last = 0.0
        self._condition = threading.Condition()

    def add(self, name: str, path: Path, created: bool = False) -> None:
        """Record a change; `created` says the event made the file (created, or renamed to this name)."""
        with self._condition:
            now = time.monotonic()
            if not self._changed:
                self._first = now
            self._changed.setdefault(name, (path, created))
            self._last = now
            self._condition.notify_all()

    def take_burst(self, timeout: float | None = None) -> set[str]:
        """Block until something changed and the burst is over; an empty set if `timeout` passed first.

        A file both made and gone within the burst (sed's and vim's temporary files) is no change.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while True:
                while not self._changed:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return set()
                    self._condition.wait(0.5 if left is None else min(left, 0.5))
                while (wait := min(self._last + self.quiet * (4 if len(self._changed) >= self.busy else 1),
                                   self._first + self.cap) - time.monotonic()) > 0:
                    self._condition.wait(wait)
                changed, self._changed = self._changed, {}
                names = {name for name, (path, created) in changed.items() if not created or os.path.lexists(path)}
                if names:
                    return names


class SiteWatcher(FileSystemEventHandler):
    """Feeds a ChangeQueue with the site's inputs that changed: content/, site.yaml and the theme folders.

    Names are relative to the site folder ("content/news/a.md"); a file of a built-in theme is named
    "default/templates/article.html (built-in theme)".
    Editor leftovers (is_ignored), the output and cache folders and `ignore` (the preview's own output)
    never count, so a build can never trigger the next one.
    """

    def __init__(self, site_dir: Path, queue: ChangeQueue, ignore: Path):
        super().__init__()
        self.site_dir = site_dir.resolve()
        self.queue = queue
        self.ignore = ignore.resolve()
        self.theme_folders: tuple[Path, ...] = ()
        self.observer = Observer()
        self._watches: dict[tuple[Path, bool], object] = {}

    def start(self, theme_folders: tuple[Path, ...]) -> None:
        self.refresh(theme_folders)
        self.observer.start()

    def refresh(self, theme_folders: tuple[Path, ...]) -> None:
        """Watch the folders that exist now: content/ or themes/ may appear later, and site.yaml may switch themes."""
        self.theme_folders = tuple(folder.resolve() for folder in theme_folders)
        wanted = {(self.site_dir, False)}  # site.yaml, and content/ or themes/ being created
        for folder in (self.site_dir / "content", self.site_dir / "themes"):
            if folder.is_dir():
                wanted.add((folder, True))
        for folder in self.theme_folders:  # the package's theme; a site's own theme is under themes/
            if folder.is_dir() and not folder.is_relative_to(self.site_dir):
                wanted.add((folder, True))
        for key in set(self._watches) - wanted:
            self.observer.unschedule(self._watches.pop(key))
        for folder, recursive in wanted - set(self._watches):
            self._watches[(folder, recursive)] = self.observer.schedule(self, str(folder), recursive=recursive)

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in CHANGE_EVENTS or (event.is_directory and event.event_type == "modified"):
            return
        for path, created in ((event.src_path, event.event_type == "created"), (event.dest_path, True)):
            name = self.input_name(os.fsdecode(path)) if path else None
            if name:
                self.queue.add(name, Path(os.fsdecode(path)), created)

    def input_name(self, path: str) -> str | None:
        """The name to report for a changed path, or None when it is not an input of the build."""
        file = Path(path)
        if file.is_relative_to(self.ignore):
            return None
        if file.is_relative_to(self.site_dir):
            parts = file.relative_to(self.site_dir).parts
            if not parts or not (parts == ("site.yaml",) or parts[0] in ("content", "themes")):
                return None
            name = "/".join(parts)
        else:
            folder = next((f for f in self.theme_folders if file.is_relative_to(f)), None)
            if folder is None:
                return None
            parts = file.relative_to(folder).parts
            name = f"{folder.name}/{'/'.join(parts)} (built-in theme)"
        if any(is_ignored(part) or part in OUTPUT_FOLDERS for part in parts):
            return None
        return name
