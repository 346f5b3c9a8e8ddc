"""Reading a suite file's YAML, guarded: whatever the file holds, the answer is a plain
mapping or one SuiteError that names the file and says what is wrong -- never a traceback, a
hang or gigabytes of memory.

What a suite file can do wrong before its keys are even looked at, and the guard for each:
* be too large, or not a file (a directory): refused by size and kind;
* not be UTF-8 (UTF-16 from a Windows editor, random bytes): decoded strictly, the first bad
  byte and its offset named;
* expand without bound (an alias bomb: nine references to nine references ... is 9^9 values
  from a few hundred bytes): aliases are counted, and the expanded size of the document is
  computed on the composed node graph, before anything is constructed;
* nest thousands of levels deep (PyYAML's composer recurses, ending in RecursionError): the
  composer's depth is limited;
* use a key that is not a plain value (a list or a mapping as a key) or give a key twice.
A SafeLoader throughout: no Python objects.
"""

import collections.abc
import os
from typing import Any, Dict, Set

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from bench.validation import SuiteError

MAX_SUITE_BYTES = 1 << 20  # a suite is a few lines; refuse anything that could be a mistake
MAX_DEPTH = 32  # nesting levels; the deepest real suite (telemetry.cooldown.zone) uses 4
MAX_ALIASES = 100  # *references; a suite reusing a grid a few times needs a handful
MAX_VALUES = 100000  # values after expanding aliases: far above any real suite


class _Refused(Exception):
    """Raised inside the loader; turned into a SuiteError naming the file."""


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader with a depth limit, an alias count and plain, unique keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Refused(f"more than {MAX_ALIASES} alias references (*name) at line {mark.line + 1}; "
                               "a suite needs a few at most")  # fmt: skip
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep at line {mark.line + 1}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if not isinstance(key, collections.abc.Hashable) or isinstance(key, tuple):
                raise _Refused(f"line {line}: a key must be a plain name or number, got a "
                               f"{'list' if isinstance(key_node, SequenceNode) else 'mapping'}")  # fmt: skip
            if key in seen:
                raise _Refused(f"line {line}: key {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Node, memo: Dict[int, int], open_nodes: Set[int]) -> int:
    """Values the node stands for once every alias is expanded (aliases share node objects,
    so memoising on identity keeps this linear in the file, not in the expansion). A node
    met again inside itself is a recursive alias (``&a [*a]``): a value without end."""
    known = memo.get(id(node))
    if known is not None:
        return known
    if id(node) in open_nodes:
        raise _Refused(f"line {node.start_mark.line + 1}: a value refers to itself through an alias")
    open_nodes.add(id(node))
    if isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(child, memo, open_nodes) for child in node.value)
    elif isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, memo, open_nodes) + _expanded_size(v, memo, open_nodes)
                       for k, v in node.value)  # fmt: skip
    else:
        size = 1
    open_nodes.discard(id(node))
    memo[id(node)] = size
    return size


def read_suite_yaml(path: str) -> Dict[str, Any]:
    """The suite file's top-level mapping; SuiteError naming ``path`` for anything else."""

    def refuse(message: str) -> SuiteError:
        return SuiteError(path, [f"{path}: {message}"])

    if os.path.isdir(path):
        raise refuse("a directory, not a suite file")
    try:
        size = os.path.getsize(path)
        if size > MAX_SUITE_BYTES:
            raise refuse(f"{size} bytes; a suite may be at most {MAX_SUITE_BYTES}")
        with open(path, "rb") as handle:
            data = handle.read(MAX_SUITE_BYTES + 1)
    except OSError as error:
        raise refuse(f"cannot read suite: {error.strerror}") from None
    text = _decode(data, refuse)
    loader = _GuardedLoader(text)
    loader.name = path  # YAML's own messages then say the file, not "<unicode string>"
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}, set()) > MAX_VALUES:
            raise _Refused(f"expands to more than {MAX_VALUES} values through its aliases (*name); "
                           "a suite has a few hundred")  # fmt: skip
        document = loader.construct_document(node) if node is not None else None
    except _Refused as error:
        raise refuse(str(error)) from None
    except yaml.YAMLError as error:
        raise refuse(f"not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if document is None:
        raise refuse("the suite is empty; it needs at least 'problems'")
    if not isinstance(document, dict):
        raise refuse(f"a suite is a mapping of keys, got {type(document).__name__}")
    return document


def _decode(data: bytes, refuse) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse("UTF-16 text (a byte-order mark); save the suite as UTF-8")
    try:
        return data.decode("utf-8-sig")  # a UTF-8 byte-order mark is harmless
    except UnicodeDecodeError as error:
        raise refuse(f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start}; "
                     "save the suite as UTF-8") from None  # fmt: skip
