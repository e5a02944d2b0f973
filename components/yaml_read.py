"""Reading YAML: the one safe loader every offline module parses with, and the strict one for the files
people write (the project and stack files, which the offline preview reads, and the API definition
files, which the program reads: config/definitions.py). Here, not in offline/, because the program
needs it too.

libyaml's loader (`CSafeLoader`) when PyYAML was built with it, which parses the large vendored CRDs and
chart values many times faster; the pure-Python `SafeLoader` otherwise. Both build the same documents.

`load_strict` reads the files people write (the project and stack files) and refuses what a safe loader
lets through silently or cannot survive: a key given twice (the last would win), aliases that expand the document past
MAX_VALUES values (a few lines of nested aliases expand into billions once the config is serialized: the
"billion laughs"), nesting deeper than MAX_DEPTH, more than one document.
Timestamps stay strings, as the engine hands them to a program.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent, StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_DEPTH = 64  # a stack file needs a dozen levels; far beyond, the constructor's recursion is the limit
# Values a document may hold once its aliases are expanded: a stack of a thousand tenants holds about
# 30,000; nine lines of nested aliases expand to a billion (serializing them takes minutes and all memory).
MAX_VALUES = 1_000_000


class StrictLoadError(yaml.YAMLError):
    """A YAML document `load_strict` refuses; `line` is 1-based, 0 when unknown."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


class _StrictLoader(SafeLoader):  # type: ignore[valid-type,misc]
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """PyYAML's constructors fail on odd explicit tags with any exception (`!!int` of nothing is an
        IndexError, `!!bool` of nothing a KeyError): each becomes a load error at the node's line."""
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            value = f" {short_repr(node.value)}" if isinstance(node, ScalarNode) else ""
            raise StrictLoadError(f"not a valid {tag} value{value}", node.start_mark.line + 1) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # `!!map` on a scalar: the stock constructor reports it
            return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the stock constructor reports it
            if first is not None:
                line = key_node.start_mark.line + 1
                raise StrictLoadError(
                    f"duplicate key {short_repr(key)} (first at line {first + 1}): the last would win", line
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_yaml_timestamp(self, node: Node) -> Any:  # type: ignore[override]
        return self.construct_scalar(node)  # type: ignore[arg-type]


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def short_repr(value: Any, limit: int = 60) -> str:
    """A value's repr, one line, cut to `limit` characters (for messages naming a key)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_strict(text: str) -> Any:
    """The one document in `text` (None if empty); StrictLoadError or another YAMLError if refused."""
    loader = _StrictLoader(text)
    try:
        node = _compose(loader)
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError:
        raise
    except Exception as exc:  # a constructor failing outside construct_object, where no node is known
        raise StrictLoadError(f"cannot be read ({type(exc).__name__}: {short_repr(str(exc), 80)})") from None
    finally:
        loader.dispose()


def _compose(loader: _StrictLoader) -> Node | None:
    """The document's node graph, composed here rather than by libyaml's composer, which recurses in C (a
    deep enough nesting of `[` overflows the C stack and kills the process) and counts nothing. Nesting
    deeper than MAX_DEPTH, an alias inside its own anchor, and a document whose aliases expand it past
    MAX_VALUES values are refused where they stand."""
    loader.get_event()  # stream start
    if loader.check_event(StreamEndEvent):
        return None
    loader.get_event()  # document start
    root: Node | None = None
    open_nodes: list[tuple[Node, list[Node]]] = []  # the collections being read, each with its children
    anchors: dict[str, Node] = {}
    expanded: dict[int, int] = {}  # a closed collection's id -> its values once every alias is expanded
    while root is None:
        event: Any = loader.get_event()
        kind = type(event)  # compared as a type, not narrowed: libyaml's marks are not yaml.error's to mypy
        line = event.start_mark.line + 1
        node: Node
        if kind is AliasEvent:
            if event.anchor not in anchors:
                raise StrictLoadError(f"alias *{event.anchor} names no anchor before it", line)
            node = anchors[event.anchor]
            if any(node is open_node for open_node, _ in open_nodes):
                raise StrictLoadError(f"alias *{event.anchor} is inside its own anchor", line)
        elif kind is ScalarEvent:
            tag = _tag(loader, ScalarNode, event.tag, event.value, event.implicit)
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            if event.anchor is not None:
                anchors[event.anchor] = node
        elif kind is SequenceStartEvent or kind is MappingStartEvent:
            if len(open_nodes) >= MAX_DEPTH:
                raise StrictLoadError(f"nested deeper than {MAX_DEPTH} levels", line)
            node_kind = SequenceNode if kind is SequenceStartEvent else MappingNode
            tag = _tag(loader, node_kind, event.tag, None, event.implicit)
            collection = node_kind(tag, [], event.start_mark, event.end_mark, flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = collection
            open_nodes.append((collection, []))
            continue
        else:  # the end of a collection
            node, children = open_nodes.pop()
            node.end_mark = event.end_mark
            node.value = (
                children if isinstance(node, SequenceNode) else list(zip(children[::2], children[1::2], strict=True))
            )
            size = expanded[id(node)] = 1 + sum(expanded.get(id(child), 1) for child in children)
            if size > MAX_VALUES:
                start = node.start_mark.line + 1
                raise StrictLoadError(f"the collection starting here expands to more than {MAX_VALUES:,} values", start)
        if open_nodes:
            open_nodes[-1][1].append(node)
        else:
            root = node
    loader.get_event()  # document end
    if not loader.check_event(StreamEndEvent):
        raise StrictLoadError("more than one document", loader.peek_event().start_mark.line + 1)
    return root


def _tag(loader: _StrictLoader, kind: type[Node], tag: str | None, value: str | None, implicit: Any) -> str:
    """The explicit tag, or the one the resolver gives an untagged node (as the stock composer does)."""
    if tag is None or tag == "!":
        return loader.resolve(kind, value, implicit)  # type: ignore[no-any-return]
    return tag
