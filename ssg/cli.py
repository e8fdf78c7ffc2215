"""The `ssg` command: build, serve, new, init, check, clean. User mistakes print `path:line: message`, exit 1."""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from .config import load_config
from .errors import SourceError, SsgError
from .folders import CACHE_DIR, OUTPUT_DIR
from .heap import Heap
from .pipeline import BuildOptions, build


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SsgError as exc:
        for error in exc.errors:
            print(github_annotation("error", error, args.site) if getattr(args, "format", "") == "github" else error,
                  file=sys.stderr)
        count = len(exc.errors)
        print(f"error: {count} problem{'s' if count != 1 else ''} found; nothing was written", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # the system refused: a full disk, a folder the user may not write
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{where}{exc.strerror or exc}", file=sys.stderr)
        print("error: the build could not finish; nothing was changed in the output", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug in ssg, not a mistake in the site: say so, and where
        if os.environ.get("SSG_DEBUG"):
            traceback.print_exc()
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"ssg: internal error: {type(exc).__name__}: {exc} (at {Path(frame.filename).name}:{frame.lineno}); "
              "this is a bug in ssg, not in the site: run again with SSG_DEBUG=1 for the traceback and report it",
              file=sys.stderr)
        return 2


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssg", description="Static site generator for news publishers.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("build", help="build the site into an output folder")
    _site_options(p)
    p.add_argument("--out", type=Path, help="output folder (default: SITE/_site)")
    p.add_argument("--base-url", help="override site.yaml's base_url, e.g. for a staging host")
    p.add_argument("--no-cache", action="store_true", help="build from scratch without reading or writing .ssg-cache/")
    p.add_argument("--changed-urls", type=Path, metavar="FILE",
                   help="write the absolute URLs whose content changed or vanished, one per line (for a CDN purge)")
    p.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    p.add_argument("--timings", action="store_true",
                   help="print the seconds of each stage, and which way the build went")
    p.add_argument("--force", action="store_true",
                   help="build into a non-empty folder ssg did not write (its files are kept, never removed)")
    p.add_argument("--as-of", metavar="TIME", help="build the site as it will be at TIME (ISO 8601, e.g. "
                   "2026-12-01T06:00; without an offset, in the site's time zone): tomorrow's front page")
    p.add_argument("--next-change", type=Path, metavar="FILE",
                   help="write the time the output next changes on its own (a scheduled article, the news "
                        "sitemap's window, the new year), as ISO 8601, for a scheduler")
    _format_option(p)
    p.set_defaults(run=run_build)

    p = commands.add_parser("serve", help="preview the site locally, rebuilding and reloading on save")
    _site_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the site in a browser")
    p.set_defaults(run=run_serve)

    p = commands.add_parser("new", help="write a skeleton article dated now")
    p.add_argument("title")
    p.add_argument("--section", default="News")
    p.add_argument("--site", type=Path, default=Path("."))
    p.set_defaults(run=run_new)

    p = commands.add_parser("init", help="write a new site that builds as it is")
    p.add_argument("dir", type=Path)
    p.set_defaults(run=run_init)

    p = commands.add_parser("import", help="turn a WordPress export, a Jekyll site or a Hugo site into this site")
    sources = p.add_subparsers(dest="import_kind", required=True, metavar="SOURCE")
    for kind, what in (("wordpress", "a WordPress export (WXR) file"), ("jekyll", "a Jekyll site folder"),
                       ("hugo", "a Hugo site folder")):
        q = sources.add_parser(kind, help=f"import {what}")
        q.add_argument("source", type=Path, metavar="EXPORT.xml" if kind == "wordpress" else "SRC")
        q.add_argument("--site", type=Path, default=Path("."),
                       help="the site to write (default .); a folder without site.yaml becomes a new site")
        q.add_argument("--force", action="store_true", help="overwrite files that already exist in the site")
        if kind == "wordpress":
            q.add_argument("--uploads", type=Path, metavar="DIR",
                           help="the old site's wp-content/uploads folder, to copy the files the posts use")
        q.set_defaults(run=run_import)

    p = commands.add_parser("check", help="validate content and internal links without writing output")
    _site_options(p)
    _format_option(p)
    p.set_defaults(run=run_check)

    p = commands.add_parser("keys", help="sign-in keys: `ssg keys new` makes a key pair")
    keys = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = keys.add_parser("new", help="make a P-256 key pair: public half into the site, private half to a file")
    p.add_argument("--private-key", type=Path, required=True, metavar="FILE",
                   help="where to write the private key (PEM, mode 0600); keep it out of the site and of git")
    p.add_argument("--site", type=Path, default=Path("."))
    p.add_argument("--kid", help="the key's id (default: today's date and a random suffix)")
    p.set_defaults(run=run_keys_new)

    p = commands.add_parser("token", help="print a sign-in token and the account URL that carries it")
    p.add_argument("--private-key", type=Path, required=True, metavar="FILE")
    p.add_argument("--tier", required=True, help="registered or subscriber")
    p.add_argument("--sub", required=True, help="the reader's opaque id")
    p.add_argument("--days", type=float, default=14, help="how long the token lives (default 14)")
    p.add_argument("--site", type=Path, default=Path("."))
    p.set_defaults(run=run_token)

    p = commands.add_parser("clean", help="remove the output folder and the build cache")
    p.add_argument("--site", type=Path, default=Path("."))
    p.add_argument("--out", type=Path)
    p.set_defaults(run=run_clean)
    return parser


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def _site_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=Path("."), help="site folder with site.yaml (default .)")
    p.add_argument("--drafts", action="store_true", help="include drafts")
    p.add_argument("--future", action="store_true", help="include articles dated in the future")


def _format_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "github"), default="text",
                   help="how errors are printed: text (path:line: message) or github (annotations that "
                        "GitHub Actions shows on the pull request's diff)")


def github_annotation(level: str, error: SourceError | str, site_dir: Path) -> str:
    """A GitHub Actions workflow command: the file is named from the repository root (the working
    directory), and the message is escaped as the runner requires."""
    if isinstance(error, str):
        return f"::{level}::{_escaped(error)}"
    path = Path(error.path) if Path(error.path).is_absolute() else site_dir / error.path
    name = os.path.relpath(path).replace(os.sep, "/")
    where = f"file={_escaped(name, True)}" + (f",line={error.line}" if error.line else "")
    return f"::{level} {where}::{_escaped(error.message)}"


def _escaped(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def as_of_time(text: str, site_dir: Path) -> datetime:
    """--as-of: an ISO 8601 time or date; without an offset it is in the site's time zone, as dates in
    front matter are."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SsgError(SourceError("--as-of", 0, f"must be a time like 2026-12-01T06:00 or 2026-12-01T06:00+01:00, "
                                                 f"got {text!r}")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=load_config(site_dir).tzinfo)
    return moment.astimezone(timezone.utc)


def run_build(args: argparse.Namespace) -> int:
    options = BuildOptions(site_dir=args.site, out_dir=args.out, drafts=args.drafts, future=args.future,
                           base_url=args.base_url, use_cache=not args.no_cache, jobs=args.jobs,
                           force=args.force, now=as_of_time(args.as_of, args.site) if args.as_of else None)
    report = build(options, progress=Progress() if sys.stderr.isatty() else None, heap=Heap(owned=True))
    for warning in report.warnings:
        print(github_annotation("warning", warning, args.site) if args.format == "github" else warning,
              file=sys.stderr)
    print(report.summary())
    if args.timings:
        print(report.timings())
    if report.next_change is not None:
        print(f"next change on its own: {report.next_change.isoformat()} (build again then)")
        if args.next_change:
            args.next_change.write_text(report.next_change.isoformat() + "\n", encoding="utf-8")
    if args.changed_urls:
        args.changed_urls.write_text("".join(url + "\n" for url in report.changed_urls()), encoding="utf-8")
    if report.meter_script_gzip is not None:
        print(f"meter script: {report.meter_script_gzip} bytes gzipped")
    if report.account_script_gzip is not None:
        print(f"account page verifier: {report.account_script_gzip} bytes gzipped")
    return 0


class Progress:
    """A one-line counter on the terminal for long builds; silent for small ones and in pipes."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < 500:
            return
        if done % 100 == 0 or done == total:
            print(f"\r{stage} {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    from .serve import serve  # watchdog is only needed here

    return serve(site_dir=args.site, host=args.host, port=args.port, drafts=args.drafts, future=args.future,
                 open_browser=args.open)


def run_new(args: argparse.Namespace) -> int:
    from .scaffold import new_article

    config = load_config(args.site)
    path = new_article(args.site, config, args.title, args.section, datetime.now(timezone.utc))
    print(f"wrote {path}")
    return 0


def run_init(args: argparse.Namespace) -> int:
    from .scaffold import init_site

    init_site(args.dir, datetime.now(timezone.utc))
    print(f"new site in {args.dir}; build it with: ssg build --site {args.dir}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from .check import check_site

    errors = check_site(BuildOptions(site_dir=args.site, drafts=args.drafts, future=args.future))
    if errors:
        raise SsgError(errors)
    print("no problems found")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from .importers.writer import write_site

    if args.import_kind == "wordpress":
        from .importers.wordpress import read_wordpress

        imported = read_wordpress(args.source, args.uploads)
    elif args.import_kind == "jekyll":
        from .importers.jekyll import read_jekyll

        imported = read_jekyll(args.source)
    else:
        from .importers.hugo import read_hugo

        imported = read_hugo(args.source)
    report = write_site(imported, args.site, force=args.force)
    for line in report.lines():
        print(line)
    print(f"build it with: ssg build --site {args.site}")
    return 0


def run_keys_new(args: argparse.Namespace) -> int:
    from .keys import new_keys

    for line in new_keys(args.site, args.private_key, args.kid, datetime.now(timezone.utc)):
        print(line)
    return 0


def run_token(args: argparse.Namespace) -> int:
    from .keys import new_token

    token, url = new_token(args.site, args.private_key, args.tier, args.sub, args.days, datetime.now(timezone.utc))
    print(token)
    print(url)
    return 0


def run_clean(args: argparse.Namespace) -> int:
    """Remove what builds of the site wrote into the output folder (never anything else), then the cache."""
    from .output import clean_output

    done = clean_output(args.site, args.out or args.site / OUTPUT_DIR)  # refuses before removing anything
    if done:
        print(done)
    cache = args.site / CACHE_DIR
    if cache.is_dir() and not cache.is_symlink():
        shutil.rmtree(cache)
        print(f"removed {cache}")
    return 0


def console() -> None:
    """The `ssg` command: main(), then exit. The objects left are frozen first, because the interpreter's
    last full garbage collection would walk the whole site only to free it (a quarter of a second at
    10,000 articles); the operating system takes the memory back at once."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console()
