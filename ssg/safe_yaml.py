"""Read YAML from users' files (site.yaml, front matter) so that no document can hang the build or eat memory."""
from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from .errors import SourceError, SsgError

# An alias (*name) repeats everything its anchor (&name) holds, so a few lines of aliases of aliases
# ("billion laughs") stand for billions of values. These limits are checked on the node tree PyYAML
# composes, before any Python value exists; no honest site.yaml or front matter comes near them.
MAX_VALUES = 100_000          # values in the document once every alias is expanded
MAX_TEXT = 10_000_000         # characters of text once every alias is expanded
MAX_DEPTH = 50                # levels of lists and mappings, aliases expanded
MAX_NUMBER_LENGTH = 100       # characters of one number: int("9" * 5000) raises, and nobody writes one
SHOWN_LENGTH = 200            # characters of a value quoted in an error message
MESSAGE_LENGTH = 500          # characters of a whole error message
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: same result, faster
    """Safe YAML where a value its tag cannot make (`!!int abc`, an impossible date) is a YAML error at
    its line, not a traceback; an impossible date like 2026-02-30 stays text for the field check to report."""


def _timestamp_or_text(loader: YamlLoader, node: ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


def _reported(construct):
    """Wrap a constructor so that a value it cannot make raises a YAML error marked with the value's line."""
    def checked(loader: YamlLoader, node: ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown(node.value)} as {node.tag.rsplit(':', 1)[-1]}",
                node.start_mark) from None
    return checked


for _tag, _construct in (("int", YamlLoader.construct_yaml_int), ("float", YamlLoader.construct_yaml_float),
                         ("bool", YamlLoader.construct_yaml_bool), ("timestamp", _timestamp_or_text)):
    YamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _reported(_construct))


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any                   # None for an empty document
    lines: dict[str, int]       # dotted mapping keys ("meter.limit") -> line in the file, three levels deep


def load_yaml(text: str, label: str, first_line: int = 1, what: str = "YAML") -> YamlDocument:
    """Check `text` against the limits above, then build its values. A problem raises SsgError at
    `label:line`, where `first_line` is the file's line number of the text's first line."""
    loader = None
    try:
        loader = YamlLoader(text)  # the pure-Python reader checks the first characters here
        root = loader.get_single_node()  # libyaml refuses nesting deeper than 1,000 levels as it parses
        if root is None:
            return YamlDocument(None, {})
        _check_limits(root)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        raise SsgError(SourceError(label, line, clip(f"invalid {what}: {exc.problem or exc.context}"))) from None
    except yaml.YAMLError as exc:  # the reader's "unacceptable character": no mark, a position in the text
        position = getattr(exc, "position", 0)
        line = first_line + text.count("\n", 0, position)
        raise SsgError(SourceError(label, line, clip(f"invalid {what}: {str(exc).splitlines()[0]}"))) from None
    except RecursionError:  # the limits keep nesting far below this; a last guard all the same
        raise SsgError(SourceError(label, first_line, f"invalid {what}: nested too deeply")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(data, _key_lines(root, first_line))


def shown(value: Any) -> str:
    """A value as an error message quotes it: repr(), cut short, so a huge value can't flood the terminal."""
    return clip(_REPR.repr(value), SHOWN_LENGTH)


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxset = 3, 10, 10, 10
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = SHOWN_LENGTH


def clip(text: str, limit: int = MESSAGE_LENGTH) -> str:
    """Cut an error message short: it may quote a value from a hostile file."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_limits(node: Node, level: int = 0, measured: dict | None = None) -> tuple[int, int, int]:
    """Measure a node as (values, characters, levels of nesting) with its aliases expanded. An alias is
    the very node its anchor names, so each node is measured once: the walk is as long as the text,
    however much the aliases would expand to, and never deeper than MAX_DEPTH."""
    measured = {} if measured is None else measured
    if isinstance(node, ScalarNode):
        if len(node.value) > MAX_NUMBER_LENGTH and node.tag in NUMBER_TAGS:
            raise _error(f"a number may have at most {MAX_NUMBER_LENGTH} characters, "
                         f"got one of {len(node.value):,}", node)
        return 1, len(node.value), 0
    size = measured.get(id(node))
    if size is None:
        if level == MAX_DEPTH:
            raise _error(f"lists and mappings may be nested at most {MAX_DEPTH} levels deep, "
                         "counting what aliases (*name) repeat", node)
        measured[id(node)] = ()  # open: met again below itself, it is an alias inside its own anchor
        values, text, depth = 1, 0, 0
        children = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
        for child in children:
            child_values, child_text, child_depth = _check_limits(child, level + 1, measured)
            values, text, depth = values + child_values, text + child_text, max(depth, child_depth)
            if values > MAX_VALUES or text > MAX_TEXT:
                raise _error(f"the document would hold more than {MAX_VALUES:,} values or {MAX_TEXT:,} "
                             "characters once its aliases (*name) are expanded", node)
        size = measured[id(node)] = (values, text, depth + 1)
    elif not size:
        raise _error("an alias (*name) is used inside the value its anchor (&name) names", node)
    if level + size[2] > MAX_DEPTH:
        raise _error(f"lists and mappings may be nested at most {MAX_DEPTH} levels deep, "
                     "counting what aliases (*name) repeat", node)
    return size


def _error(problem: str, node: Node) -> yaml.MarkedYAMLError:
    return yaml.composer.ComposerError(None, None, problem, node.start_mark)


def _key_lines(root: Node, first_line: int) -> dict[str, int]:
    """Map dotted keys ("meter.limit") to their line. A node an alias repeats is walked once: keys
    inside a repeat report the line of the key that holds it."""
    lines: dict[str, int] = {}
    seen: set[int] = set()
    todo = [(root, "", 0)]
    while todo:
        node, prefix, depth = todo.pop()
        if not isinstance(node, MappingNode) or depth == 3 or id(node) in seen:
            continue
        seen.add(id(node))
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and len(key_node.value) <= SHOWN_LENGTH:
                key = f"{prefix}{key_node.value}"
                lines[key] = first_line + key_node.start_mark.line
                todo.append((value_node, key + ".", depth + 1))
    return lines
