"""The preview's builds, run one at a time in a child process that keeps the site warm between them.

Why a process of its own: the preview's HTTP threads answer requests while a build runs, and in one
process they would take turns with the build for Python's interpreter lock, making every rebuild slower
the more a browser asks. The child also starts before the server has any threads, so the worker pool it
forks for a big build never inherits a lock held by a thread that does not exist in the copy.
"""
from __future__ import annotations

import gc
import multiprocessing
import signal
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Callable

from .errors import SsgError
from .heap import Heap
from .pipeline import BuildOptions, BuildReport, Session, build


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    report: BuildReport | None          # None when the build failed
    errors: tuple[str, ...] = ()        # "path:line: message" of each error of a failed build


class BuildProcess:
    """Builds `options` in a child process on request; start it before any other thread."""

    def __init__(self, options: BuildOptions):
        self.options = options
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._start()

    def _start(self) -> None:
        self._busy = False  # a build was asked for and not answered (Ctrl-C came in the middle)
        self._connection, child = self._context.Pipe()
        # Not a daemon: daemonic processes may not start the worker pool of a large build.
        self._process = self._context.Process(target=serve_builds, args=(child, self.options), name="ssg-build")
        self._process.start()
        child.close()

    def build(self, on_edited: Callable[[list[str]], None], open_pages: tuple[str, ...] = (),
              edited: tuple[str, ...] | None = None) -> BuildOutcome:
        """Build once; `on_edited` hears the output files of the edited documents (and, after a template edit,
        of the `open_pages`, URL paths) as soon as they are in place. `edited`: the documents (paths under
        content/) the watcher saw change, when nothing else did (see Session.edited)."""
        self._busy = True
        try:
            self._connection.send((tuple(open_pages), edited))
            while not isinstance(answer := self._connection.recv(), BuildOutcome):
                on_edited(answer)
            self._busy = False
            return answer
        except (EOFError, OSError):
            self._busy = False  # the child died (killed, out of memory): start a new one for the next save
            self._process.join(timeout=5)
            code = self._process.exitcode
            self._start()
            return BuildOutcome(None, (f"ssg: the build process stopped unexpectedly (exit code {code}); "
                                       "it has been restarted and builds again on the next save",))

    def stop(self) -> None:
        """Let an idle child finish its last words (the cache's entries); stop a building one at once."""
        if not self._busy:
            try:
                self._connection.send(None)
            except OSError:
                pass
            self._process.join(timeout=10)
        if self._process.is_alive():  # SIGTERM unwinds the build: its worker pool stops, its staging goes
            self._process.terminate()
            self._process.join(timeout=10)
        self._connection.close()


def serve_builds(connection: Connection, options: BuildOptions) -> None:
    """The child's loop: build on each request, answer, then tidy up while nobody waits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it then asks this process to stop
    signal.signal(signal.SIGTERM, _exit)          # unwinds, so a running worker pool is stopped too
    session = Session(on_edited=connection.send)
    try:
        while (request := connection.recv()) is not None:
            session.open_pages, session.edited = request
            connection.send(build_once(options, session))
            settle(session)
    except (EOFError, OSError, SystemExit):
        pass  # the parent is gone or asked us to stop
    finally:
        session.close()


def build_once(options: BuildOptions, session: Session) -> BuildOutcome:
    try:
        return BuildOutcome(build(options, session=session, heap=Heap(owned=True)))
    except SsgError as exc:
        return BuildOutcome(None, tuple(str(error) for error in exc.errors))
    except Exception as exc:  # a bug in the generator must not stop the preview: say so and keep serving
        traceback.print_exc()
        return BuildOutcome(None, (f"ssg: unexpected {type(exc).__name__} while building: {exc} "
                                   "(details in the terminal)",))


def settle(session: Session) -> None:
    """Work left for after the pages heard of a build: save the cache's entries, collect garbage, then move
    what survives out of the collector's way. The next build then walks only its own new objects, not the
    whole site kept in memory (that walk was about a fifth of a one-article rebuild)."""
    session.save()
    gc.collect()
    gc.freeze()


def _exit(signum: int, frame) -> None:
    sys.exit(0)
