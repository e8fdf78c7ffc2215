"""Watch a site's inputs with watchdog, classify each change (content, config, theme, static) and hand the
preview server one batch of changes per burst."""
from __future__ import annotations

import enum
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .folders import CACHE_DIR, CONFIG_FILE, CONTENT_DIR, OUTPUT_DIR, STATIC_DIR, THEMES_DIR
from .sources import is_ignored
from .theme import PACKAGE_THEMES

# Events that mean a file's bytes or its existence changed. Reads by the build itself produce
# "opened" and "closed_no_write" events; reacting to those would rebuild for ever.
CHANGE_EVENTS = frozenset({"created", "modified", "deleted", "moved"})
OUTPUT_FOLDERS = frozenset({OUTPUT_DIR, CACHE_DIR})
BUILT_IN_THEMES = PACKAGE_THEMES.resolve()


class ChangeKind(enum.Enum):
    CONTENT = "content"     # content/: documents and the files that travel with them
    CONFIG = "config"       # site.yaml
    THEME = "theme"         # a theme's templates and other files: the site's themes/ or a built-in theme
    STATIC = "static"       # a theme's static/ folder or the site's: files copied into the site as they are


@dataclass(frozen=True, slots=True)
class Change:
    name: str               # as printed: "content/news/a.md", "default/templates/base.html (built-in theme)"
    kind: ChangeKind


def classify(path: Path, site_dir: Path) -> ChangeKind | None:
    """What a changed path (absolute, resolved) is to the build of the site in `site_dir`; None when the
    build never reads it: editor leftovers, the output and cache folders, anything else in the site folder."""
    if path.is_relative_to(BUILT_IN_THEMES):
        parts = path.relative_to(BUILT_IN_THEMES).parts                 # ("default", "static", "css", "site.css")
        kind = ChangeKind.STATIC if parts[1:2] == ("static",) else ChangeKind.THEME
    elif path.is_relative_to(site_dir):
        parts = path.relative_to(site_dir).parts
        if parts == (CONFIG_FILE,):
            kind = ChangeKind.CONFIG
        elif parts[:1] == (CONTENT_DIR,):
            kind = ChangeKind.CONTENT
        elif parts[:1] == (STATIC_DIR,):
            kind = ChangeKind.STATIC
        elif parts[:1] == (THEMES_DIR,):                               # ("themes", "default", "static", ...)
            kind = ChangeKind.STATIC if parts[2:3] == ("static",) else ChangeKind.THEME
        else:
            return None
    else:
        return None
    if any(is_ignored(part) or part in OUTPUT_FOLDERS for part in parts):
        return None
    return kind


class ChangeQueue:
    """Collects changed paths from the watcher thread; take_burst() waits for a quiet moment, then returns them all.

    A path added while the caller is rebuilding stays queued for the next take_burst(), so no change is missed.
    """

    def __init__(self, quiet: float = 0.02, cap: float = 3.0):
        self.quiet = quiet          # seconds without events that end a burst (an editor save is several events)
        self.cap = cap              # longest wait, so a never-ending stream of events still rebuilds
        self.busy = 10              # from this many files on it looks like a checkout: wait 4 x longer for the rest
        self._changed: dict[Change, tuple[Path, bool]] = {}   # change -> (path, its first event created it)
        self._first = self._last = 0.0
        self._condition = threading.Condition()

    def add(self, change: Change, path: Path, created: bool = False) -> None:
        """Record a change; `created` says the event made the file (created, or renamed to this name)."""
        with self._condition:
            now = time.monotonic()
            if not self._changed:
                self._first = now
            self._changed.setdefault(change, (path, created))
            self._last = now
            self._condition.notify_all()

    def take_burst(self, timeout: float | None = None) -> set[Change]:
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
                changes = {change for change, (path, created) in changed.items()
                           if not created or os.path.lexists(path)}
                if changes:
                    return changes


class SiteWatcher(FileSystemEventHandler):
    """Feeds a ChangeQueue with the site's inputs that changed: content/, site.yaml and the theme folders.

    Names are relative to the site folder ("content/news/a.md"); a file of a built-in theme is named
    "default/templates/article.html (built-in theme)".
    Editor leftovers, the output and cache folders (see classify) and `ignore` (the preview's own output)
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
        """Watch the folders that exist now: content/, themes/ or static/ may appear later, and site.yaml may switch themes."""
        self.theme_folders = tuple(folder.resolve() for folder in theme_folders)
        wanted = {(self.site_dir, False)}  # site.yaml, and content/ or themes/ being created
        for folder in (self.site_dir / CONTENT_DIR, self.site_dir / THEMES_DIR, self.site_dir / STATIC_DIR):
            if folder.is_dir():
                wanted.add((folder, True))
        for folder in self.theme_folders:  # a built-in theme; the site's own theme is under themes/, watched above
            if folder.is_dir() and not folder.is_relative_to(self.site_dir / THEMES_DIR):
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
            file = Path(os.fsdecode(path)) if path else None
            change = self.change_of(file) if file else None
            if change:
                self.queue.add(change, file, created)

    def change_of(self, file: Path) -> Change | None:
        """The change to report for a changed path, or None when it is not an input of the build."""
        if file.is_relative_to(self.ignore):
            return None
        kind = classify(file, self.site_dir)
        if kind is None:
            return None
        if file.is_relative_to(BUILT_IN_THEMES):
            return Change(f"{file.relative_to(BUILT_IN_THEMES).as_posix()} (built-in theme)", kind)
        return Change(file.relative_to(self.site_dir).as_posix(), kind)
