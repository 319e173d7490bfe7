"""Safe YAML with line numbers: mappings and sequences remember where they start.

Built on PyYAML's C safe loader (the fastest safe parser measured). Timestamps stay strings,
unknown local tags (CloudFormation's `!Ref`, `!GetAtt` …) load as `{"!Ref": value}` rather than
failing, and alias expansion is bounded so a "billion laughs" file cannot blow up a walker.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_EXPANDED_NODES = 2_000_000


class YamlMap(dict):  # type: ignore[type-arg]
    """A mapping that knows its 1-based start line and each key's line."""

    __slots__ = ("line", "key_lines")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list):  # type: ignore[type-arg]
    __slots__ = ("line", "item_lines")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.item_lines: list[int] = []


class LineLoader(_Base):  # type: ignore[misc, valid-type]
    pass


def _construct_map(loader: Any, node: yaml.MappingNode) -> Any:
    data = YamlMap()
    data.line = node.start_mark.line + 1
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark) from None
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: Any, node: yaml.SequenceNode) -> Any:
    data = YamlList()
    data.line = node.start_mark.line + 1
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_lines.append(child.start_mark.line + 1)


def _construct_str(loader: Any, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)


def _construct_tagged(loader: Any, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    out = YamlMap()
    out.line = node.start_mark.line + 1
    out["!" + suffix] = value
    return out


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:omap", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)
LineLoader.add_constructor("tag:yaml.org,2002:binary", _construct_str)
LineLoader.add_constructor("tag:yaml.org,2002:set", _construct_map)
LineLoader.add_multi_constructor("!", _construct_tagged)


class YamlError(ValueError):
    pass


def _expanded_size(root: Any) -> int:
    """Nodes a naive walk would visit, computed over the shared structure without walking it."""
    memo: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        obj, done = stack.pop()
        if not isinstance(obj, (dict, list)) or id(obj) in memo:
            continue
        children = list(obj.values()) if isinstance(obj, dict) else obj
        if done:
            memo[id(obj)] = 1 + sum(memo.get(id(c), 1) for c in children)
            if memo[id(obj)] > MAX_EXPANDED_NODES:
                return memo[id(obj)]
        else:
            stack.append((obj, True))
            stack.extend((c, False) for c in children if isinstance(c, (dict, list)))
    return memo.get(id(root), 1)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def describe(e: yaml.YAMLError) -> str:
    """A short message with a position that never quotes the file's contents."""
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or type(e).__name__
    problem = _QUOTED.sub("…", str(problem))
    if mark is not None:
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"invalid YAML: {problem}"


# PyYAML's C composer recurses per nesting level and overflows the C stack near 30,000 levels;
# refuse long runs of flow openers up front (a worker crash would be contained, but costs a worker).
_DEEP_FLOW = re.compile(r"(?:[\[{][ \t\r\n]*){2000}")


def load_all(text: str) -> list[Any]:
    if _DEEP_FLOW.search(text):
        raise YamlError("invalid YAML: nested too deeply")
    try:
        docs = [d for d in yaml.load_all(text, Loader=LineLoader)]
    except yaml.YAMLError as e:
        raise YamlError(describe(e)) from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    if "&" in text and "*" in text:
        for d in docs:
            if _expanded_size(d) > MAX_EXPANDED_NODES:
                raise YamlError("YAML aliases expand to more than "
                                f"{MAX_EXPANDED_NODES:,} nodes (refused)")
    return docs


def check_bounds(text: str, *, max_depth: int, max_nodes: int) -> None:
    """Refuse YAML nested deeper than `max_depth` or whose aliases expand to more than
    `max_nodes` nodes, before any loader builds it: for configuration and rule packs, which are
    loaded in the main process by loaders without these limits.

    Measured over PyYAML's event stream (a parser with explicit stacks: no recursion, memory
    linear in the text): each anchor remembers the expanded size of its node, each alias adds it.
    """
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    stack: list[list[Any]] = [[0, None]]  # [expanded count, anchor] per open collection
    try:
        for event in yaml.parse(text, Loader=_Base):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([1, event.anchor])
                if len(stack) - 1 > max_depth:
                    raise YamlError(f"invalid YAML at line {line}: nested more than {max_depth} "
                                    "levels deep (refused)")
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                count, anchor = stack.pop()
            elif isinstance(event, yaml.ScalarEvent):
                count, anchor = 1, event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if any(open_anchor == event.anchor for _, open_anchor in stack):
                    # a node that contains itself: infinite to any walker
                    raise YamlError(f"invalid YAML at line {line}: an alias inside the node it "
                                    "names (refused)")
                count, anchor = sizes.get(event.anchor, 1), None
            else:
                continue
            if anchor is not None:
                sizes[anchor] = count
            stack[-1][0] += count
            if stack[-1][0] > max_nodes:
                raise YamlError(f"YAML holds more than {max_nodes:,} nodes once aliases are "
                                "expanded (refused)")
            if len(stack) == 1:
                stack[0][0] = 0  # a new document starts counting afresh
    except yaml.YAMLError as e:
        raise YamlError(describe(e)) from None
