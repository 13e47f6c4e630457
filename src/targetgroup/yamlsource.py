"""Read a YAML file and remember the line of every key, so errors can point at it.

A file over `limits.MAX_CONFIG_BYTES`, nested deeper than `limits.MAX_YAML_DEPTH`, or whose
aliases expand to more than `limits.MAX_YAML_NODES` nodes (a "billion laughs" alias bomb) is
refused with a `ConfigError` naming the file and line, before anything walks the expansion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from targetgroup.errors import ConfigError
from targetgroup.limits import MAX_CONFIG_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, check_size, shown

KeyPath = tuple[str | int, ...]


def load_yaml(path: Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse `path`; return the data and a map from key path (e.g. ('sources', 0, 'path')) to line."""
    check_size(path, MAX_CONFIG_BYTES, ConfigError)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path,
                          hint="check the path; relative paths are taken from the current folder") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path,
                          hint="save the file as UTF-8") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(f"not valid YAML: {exc.problem}", file=path, line=line,
                          hint="check indentation and quoting around that line") from None
    except RecursionError:
        raise ConfigError(f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep", file=path,
                          hint="a configuration file is a few levels deep; check the file") from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Refuse a document whose aliases expand beyond the node budget, or nesting that is too deep.

    Sizes are counted per node object once (aliases share the node they point to), so an alias
    bomb costs a few hundred steps here instead of gigabytes later.
    """
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        line = node.start_mark.line + 1
        if depth > MAX_YAML_DEPTH:
            raise ConfigError(f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep", file=path, line=line,
                              hint="a configuration file is a few levels deep; check the file")
        if id(node) in busy:
            raise ConfigError("an alias refers to the collection that contains it", file=path, line=line,
                              hint="remove the alias (*name) that points back into its own anchor (&name)")
        busy.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        total = 1 + sum(size(child, depth + 1) for child in children)
        busy.discard(id(node))
        if total > MAX_YAML_NODES:
            raise ConfigError(f"the YAML expands to more than {MAX_YAML_NODES:,} values through its aliases",
                              file=path, line=line,
                              hint="anchors (&name) and aliases (*name) may repeat a block, not multiply it; "
                                   "write the values out")
        sizes[id(node)] = total
        return total

    size(root, 0)


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = path + (key_node.value,)
            lines[key_path] = key_node.start_mark.line + 1
            _walk(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines)


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def dotted(path: KeyPath) -> str:
    """('sources', 0, 'columns') -> 'sources[0].columns'."""
    out = ""
    for part in path:
        part = part if isinstance(part, int) else shown(part)
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
