"""How the build cache keeps its values: JSON, a Document's fields by position, tagged values for what JSON lacks.

Entries were pickled once; a pickle runs code as it loads, and a cache restored from a shared CI cache is
written by whoever can write there. JSON only ever makes data. A value JSON has no type for is written as
an object with one "$" key that names its type ({"$tuple": [...]}, {"$date": "2026-11-20"}), so it comes
back with that type; a mapping is written as a JSON object only when no key needs such a tag. A datetime
keeps its named zone (Europe/London, not just an offset) and its fold.

Reading raises ValueError for anything that is not what this module writes (the cache then says it cannot
be used); writing raises TypeError for a value it cannot keep (a bug: front matter only holds YAML's types)."""
from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .freshness import RACY_SECONDS, BuildRecord
from .model import Document, Image
from .pages import PageLink, SectionLink, SiteNav


@dataclass(frozen=True, slots=True)
class CachedDocument:
    mtime_ns: int
    size: int
    folder_digest: str        # digest of the sizes and times of the files beside the document
    digest: str
    stored_at: float
    document: Document       # with body "" (bodies are read on demand: they are most of the memory)

    def still_valid(self, mtime_ns: int, size: int, folder_digest: str) -> bool:
        return (mtime_ns, size, folder_digest) == (self.mtime_ns, self.size, self.folder_digest) \
            and mtime_ns / 1e9 < self.stored_at - RACY_SECONDS


_FIELDS = tuple(field.name for field in dataclasses.fields(Document))
_NONE = type(None)
# What each field is in JSON, checked on every entry before it is read: a field added to Document without
# a line here fails at import, so the cache never writes a field it cannot read back.
_JSON_TYPES = {"source": str, "relative": str, "kind": str, "layout": str, "title": str, "date": (list, _NONE),
               "updated": (list, _NONE), "authors": list, "section": str, "section_slug": str, "tags": list,
               "summary": str, "image": (list, _NONE), "slug": str, "path": str, "aliases": list, "draft": bool,
               "access": str, "body": str, "toc": str, "params": dict, "assets": list, "digest": str,
               "source_line": int, "made_images": list,
               "listing": str}
_FIELD_JSON_TYPES = tuple(_JSON_TYPES[name] for name in _FIELDS)
_DATE, _UPDATED, _IMAGE, _PARAMS, _ASSETS = (_FIELDS.index(name) for name in
                                             ("date", "updated", "image", "params", "assets"))


# An entry is one plain list: the CachedDocument's fields, then the Document's, in order. Reading 10,000
# frozen dataclasses field by field, or as tagged JSON objects, would cost more than the rest of a build.
_HEAD = (int, int, str, str, (float, int))  # mtime_ns, size, folder_digest, digest, stored_at
_ENTRY_JSON_TYPES = _HEAD + _FIELD_JSON_TYPES
_AUTHORS, _TAGS, _ALIASES, _MADE = (_FIELDS.index(name) for name in ("authors", "tags", "aliases", "made_images"))


def entry_to_json(entry: CachedDocument) -> list:
    return [entry.mtime_ns, entry.size, entry.folder_digest, entry.digest, entry.stored_at,
            *document_to_json(entry.document)]


def document_to_json(document: Document) -> list:
    """The document's fields in order, each one JSON can hold (tuples become lists: the field says tuple)."""
    values = [getattr(document, name) for name in _FIELDS]
    for index in (_DATE, _UPDATED):
        if values[index] is not None:
            values[index] = datetime_to_json(values[index])
    if document.image is not None:
        values[_IMAGE] = [getattr(document.image, field.name) for field in dataclasses.fields(Image)]
    values[_PARAMS] = value_to_json(document.params) if document.params else {}
    return values


def entry_from_json(packed: Any) -> CachedDocument:
    """The entry that entry_to_json() wrote; ValueError for anything else. The items of a tuple are not
    checked one by one: a 10,000-article site reads 100,000 of them on every build."""
    if type(packed) is not list or len(packed) != len(_ENTRY_JSON_TYPES):
        raise ValueError("not an entry's list of fields")
    if not all(map(isinstance, packed, _ENTRY_JSON_TYPES)):
        name, value = next((name, value) for name, value, kind in
                           zip(("mtime_ns", "size", "folder_digest", "digest", "stored_at", *_FIELDS), packed,
                               _ENTRY_JSON_TYPES) if not isinstance(value, kind))
        raise ValueError(f"its field '{name}' holds a {type(value).__name__}")
    values = packed[len(_HEAD):]
    try:
        if values[_DATE] is not None:
            values[_DATE] = datetime_from_json(values[_DATE])
        if values[_UPDATED] is not None:
            values[_UPDATED] = datetime_from_json(values[_UPDATED])
        values[_AUTHORS], values[_TAGS], values[_ALIASES], values[_MADE] = \
            tuple(values[_AUTHORS]), tuple(values[_TAGS]), tuple(values[_ALIASES]), tuple(values[_MADE])
        values[_ASSETS] = tuple(map(tuple, values[_ASSETS])) if values[_ASSETS] else ()
        if values[_IMAGE] is not None:
            values[_IMAGE] = _image_from_json(values[_IMAGE])
        if values[_PARAMS]:
            values[_PARAMS] = value_from_json(values[_PARAMS])
            if type(values[_PARAMS]) is not dict:
                raise ValueError("its params are not a mapping")
    except (TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    mtime_ns, size, folder_digest, digest, stored_at = packed[:len(_HEAD)]
    return CachedDocument(mtime_ns, size, folder_digest, digest, stored_at, Document(*values))


def _image_from_json(fields: list) -> Image:
    """Image's fields in order; its srcset candidates come back as tuples, as they were made."""
    image = Image(*fields)
    return dataclasses.replace(image, srcset=tuple(map(tuple, image.srcset)), webp=tuple(map(tuple, image.webp)))


def record_to_json(record: BuildRecord) -> str:
    nav = record.nav
    return json.dumps({"stat": record.stat, "content": record.content, "valid_until": record.valid_until.isoformat(),
                       "pages": record.pages, "files": record.files, "documents": record.documents,
                       "inputs": record.inputs, "templates": record.templates, "chunks": record.chunks,
                       "site": record.site,
                       "nav": None if nav is None else [[dataclasses.astuple(link) for link in nav.sections],
                                                        [dataclasses.astuple(link) for link in nav.pages], nav.year,
                                                        nav.query_aliases]})


def record_from_json(text: Any) -> BuildRecord:
    try:
        values = json.loads(text)
        valid_until = datetime.fromisoformat(values["valid_until"])
        record = BuildRecord(values["stat"], values["content"], valid_until, values["pages"], values["files"],
                             values["documents"], values["inputs"], values["templates"], tuple(values["chunks"]),
                             values["site"], _nav_from_json(values["nav"]))
    except (TypeError, KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    if valid_until.tzinfo is None or not all(map(isinstance, (record.stat, record.content, record.pages, record.files,
                                                             record.documents, record.inputs, record.templates,
                                                             record.site),
                                                 (str, str, int, int, int, str, str, str))) \
            or not all(type(chunk) is str for chunk in record.chunks):
        raise ValueError("not a build record")
    return record


def _nav_from_json(value: Any) -> SiteNav | None:
    if value is None:
        return None
    sections, pages, year, query_aliases = value
    nav = SiteNav(tuple(SectionLink(*map(str, link)) for link in sections),
                  tuple(PageLink(*map(str, link)) for link in pages),
                  year, query_aliases)
    if type(year) is not int or type(query_aliases) is not bool \
            or not all(len(link) == 3 for link in sections) or not all(len(link) == 2 for link in pages):
        raise ValueError("not a navigation")
    return nav


def references_from_json(text: Any) -> dict[str, list[str | None]]:
    """What templates refer to (theme.template_references): template name -> names, None for a dynamic one."""
    value = json.loads(text)
    if type(value) is not dict or not all(type(names) is list and all(name is None or type(name) is str
                                                                      for name in names)
                                          for names in value.values()):
        raise ValueError("not a mapping of template names")
    return value


def _list(value: Any) -> list:
    if type(value) is not list:
        raise ValueError(f"a list was expected, got a {type(value).__name__}")
    return value


def datetime_to_json(moment: datetime) -> list:
    """[year, month, day, hour, minute, second, microsecond, zone, fold]: the wall time as written, the zone
    by name ("Europe/London", not just today's offset) or as an offset in microseconds, or None, and the fold
    (which of two equal wall times, when clocks go back). Read back with one constructor call, several
    times faster than parsing ISO text, and a 10,000-article site has more than 10,000 of them."""
    return [moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond,
            _zone_to_json(moment.tzinfo), moment.fold]


def datetime_from_json(parts: Any) -> datetime:
    year, month, day, hour, minute, second, microsecond, zone, fold = parts
    return datetime(year, month, day, hour, minute, second, microsecond, _zone_from_json(zone), fold=fold)


def _zone_to_json(zone: Any) -> str | int | None:
    if zone is None:
        return None
    if type(zone) is ZoneInfo and zone.key:
        return zone.key
    if type(zone) is timezone:
        offset = zone.utcoffset(None)
        if zone.tzname(None) == timezone(offset).tzname(None):  # no name of its own to lose
            return offset // timedelta(microseconds=1)
    raise TypeError(f"a datetime in {zone!r} cannot be kept in the build cache (only named zones and offsets)")


@functools.lru_cache(maxsize=64, typed=True)
def _zone_from_json(zone: Any) -> tzinfo | None:
    if zone is None:
        return None
    if type(zone) is str:
        return ZoneInfo(zone)
    if type(zone) is int:
        return timezone(timedelta(microseconds=zone))
    raise ValueError(f"not a time zone: {zone!r}")


def value_to_json(value: Any) -> Any:
    """Front matter data (YAML's types) as JSON, with tags for the types JSON lacks."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list:
        return [value_to_json(item) for item in value]
    if kind is dict:
        if all(type(key) is str and not key.startswith("$") for key in value):
            return {key: value_to_json(item) for key, item in value.items()}
        return {"$dict": [[value_to_json(key), value_to_json(item)] for key, item in value.items()]}
    if kind in _WRITERS:
        tag, write = _WRITERS[kind]
        return {tag: write(value)}
    raise TypeError(f"a {kind.__name__} cannot be kept in the build cache")


def value_from_json(value: Any) -> Any:
    """What value_to_json() wrote, with its types; ValueError (or TypeError, KeyError) for anything else."""
    kind = type(value)
    if kind is list:
        return [value_from_json(item) for item in value]
    if kind is dict:
        if len(value) == 1:
            (key, payload), = value.items()
            if key.startswith("$"):
                return _READERS[key](payload)
        return {key: value_from_json(item) for key, item in value.items()}
    return value


def _items(payload: Any) -> list:
    return [value_from_json(item) for item in _list(payload)]


def _mapping(payload: Any) -> dict:
    pairs = [_list(pair) for pair in _list(payload)]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("a mapping's items must be [key, value] pairs")
    return {value_from_json(key): value_from_json(item) for key, item in pairs}


def _time_to_text(moment: time) -> str:
    if moment.tzinfo is not None:
        raise TypeError("a time of day with a time zone cannot be kept in the build cache")
    return moment.isoformat()


def _bytes(payload: Any) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None


_WRITERS = {
    tuple: ("$tuple", lambda value: [value_to_json(item) for item in value]),
    set: ("$set", lambda value: [value_to_json(item) for item in value]),
    frozenset: ("$frozenset", lambda value: [value_to_json(item) for item in value]),
    datetime: ("$datetime", datetime_to_json),
    date: ("$date", date.isoformat),
    time: ("$time", _time_to_text),
    bytes: ("$bytes", lambda value: base64.b64encode(value).decode("ascii")),
}
_READERS = {
    "$tuple": lambda payload: tuple(_items(payload)),
    "$set": lambda payload: set(_items(payload)),
    "$frozenset": lambda payload: frozenset(_items(payload)),
    "$dict": _mapping,
    "$datetime": datetime_from_json,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$bytes": _bytes,
}
