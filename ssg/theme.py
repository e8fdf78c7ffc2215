"""Find a theme (the site's themes/NAME first, then the package's), its templates and static files."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined,
                    TemplateError, meta, select_autoescape)

from .errors import SourceError, SsgError
from .folders import CONFIG_FILE, THEMES_DIR

PACKAGE_THEMES = Path(__file__).parent / "themes"


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    folders: tuple[Path, ...]          # most specific first: the site's copy, then the package's
    static: dict[str, Path]            # "css/site.css" -> file, the site's files shadowing the package's
    fingerprinted: dict[str, str]      # "css/site.css" -> "assets/css/site.1a2b3c4d5e.css"

    def asset(self, name: str) -> str:
        """Output path of a static file; a template naming a file the theme lacks is an error."""
        try:
            return self.fingerprinted[name]
        except KeyError:
            raise ValueError(f"theme '{self.name}' has no static file '{name}'") from None

    @property
    def template_dirs(self) -> list[Path]:
        return [folder / "templates" for folder in self.folders if (folder / "templates").is_dir()]

    def layouts(self) -> frozenset[str]:
        """Templates a document may name with `layout:`."""
        names = set()
        for folder in self.template_dirs:
            names |= {p.stem for p in folder.glob("*.html") if p.stem not in ("base", "list", "404", "redirect", "account", "search")}
        return frozenset(names)


def theme_folders(site_dir: Path, name: str) -> tuple[Path, ...]:
    """Where theme `name` is, most specific first: the site's copy, then the package's."""
    return tuple(folder for folder in (site_dir / THEMES_DIR / name, PACKAGE_THEMES / name) if folder.is_dir())


def load_theme(site_dir: Path, name: str) -> Theme:
    folders = theme_folders(site_dir, name)
    if not folders:
        available = sorted(p.name for p in PACKAGE_THEMES.iterdir() if p.is_dir())
        raise SsgError(SourceError(str(site_dir / CONFIG_FILE), 0,
                                   f"theme '{name}' not found in themes/ or among the built-in themes "
                                   f"({', '.join(available)})"))
    static: dict[str, Path] = {}
    for folder in reversed(folders):
        root = folder / "static"
        if root.is_dir():
            for file in sorted(root.rglob("*")):
                if file.is_file() and not file.name.startswith("."):
                    static[file.relative_to(root).as_posix()] = file
    fingerprinted = {name: _fingerprint(name, file.read_bytes()) for name, file in static.items()}
    return Theme(name=name, folders=folders, static=static, fingerprinted=fingerprinted)


def _fingerprint(name: str, data: bytes) -> str:
    """css/site.css -> assets/css/site.<hash>.css, so a CDN may cache it for ever."""
    stem, dot, suffix = name.rpartition(".")
    digest = hashlib.sha1(data).hexdigest()[:10]
    return f"assets/{stem}.{digest}.{suffix}" if dot else f"assets/{name}.{digest}"


def make_environment(theme: Theme) -> Environment:
    """Autoescape everything (HTML and XML) and fail loudly on a missing variable. Compiled templates are
    never kept on disk: compiled code in a cache restored from CI would be code anyone could plant there.
    The preview keeps its environment, compiled templates included, in memory between builds."""
    package_themes = {p.name: FileSystemLoader(p / "templates") for p in PACKAGE_THEMES.iterdir()
                      if (p / "templates").is_dir()}
    loader = ChoiceLoader([FileSystemLoader([str(d) for d in theme.template_dirs]), PrefixLoader(package_themes)])
    return Environment(loader=loader, autoescape=select_autoescape(["html", "xml"], disabled_extensions=["txt"], default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def template_digest(env: Environment, name: str, cache: dict[str, str], known: dict[str, list[str | None]]) -> str:
    """A digest of template `name` and of every template it extends, includes or imports, as the loader
    finds them now (a site's override shadows the theme's file): a page is re-rendered only when one of
    these changed. A name chosen at render time ({% include variable %}) could be any template, so such a
    template depends on all of them. `cache` holds the digests already made in this build, `known` the
    references of each template source seen before (see template_references)."""
    if name not in cache:
        digest = hashlib.sha1()
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                source = env.loader.get_source(env, current)[0]
            except TemplateError:  # missing: rendering reports it with the page that asked
                source = "\0missing"
            digest.update(f"{current}\0{source}\0".encode())
            references = template_references(source, known)
            if None in references:
                for other in sorted(env.list_templates()):
                    digest.update(f"{other}\0{env.loader.get_source(env, other)[0]}\0".encode())
                break
            todo.extend(sorted(references, reverse=True))
        cache[name] = digest.hexdigest()
    return cache[name]


def template_references(source: str, known: dict[str, list[str | None]]) -> list[str | None]:
    """The names a template's extends, include and import tags give (None for one chosen at render time).
    Parsing a theme costs a tenth of a second, so `known` keeps the answers by source digest between builds."""
    key = hashlib.sha1(source.encode()).hexdigest()
    if key not in known:
        try:
            known[key] = list(meta.find_referenced_templates(_PARSER.parse(source)))
        except TemplateError:
            known[key] = []  # a syntax error is reported when a page renders with it
    return known[key]


_PARSER = Environment()
