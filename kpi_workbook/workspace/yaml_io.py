"""Canonical YAML reading and writing, so framework files load and save byte for byte.

Framework files are plain data: anchors and aliases (``&name``, ``*name``, ``<<: *name``) are refused,
so a few hundred bytes cannot expand into gigabytes, and every value is written out where it applies.

A process keeps what it parsed, by the file's text: opening a workspace again (a notebook, the workshop, a test)
reads the files and parses only those whose text changed. Each reader gets its own copy of the data. It keeps what
it rendered too, by the data's pickle: a save renders only the files whose data changed.
"""

from __future__ import annotations

__all__ = ["dump_yaml", "read_yaml"]

import pickle
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from kpi_workbook.core.errors import InputError, Problem

# libyaml's parser when PyYAML was built with it (about five times faster than the pure-Python one)
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:
    from yaml import SafeLoader as _SafeLoader


class _StrictLoader(_SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid date '{node.value}': {exc}", node.start_mark
        ) from None


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


class _CanonicalDumper(yaml.SafeDumper):
    """Block style for structure, flow style for short lists of scalars, integral floats as ints; never an anchor or
    alias (the reader refuses them), even where one value is shared."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if value.is_integer() and abs(value) < 1e15:
        return dumper.represent_int(int(value))
    return yaml.SafeDumper.represent_float(dumper, value)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    scalars = all(isinstance(v, (str, int, float, bool)) and not isinstance(v, dict) for v in value)
    flow = scalars and all("\n" not in str(v) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_CanonicalDumper.add_representer(float, _represent_float)
_CanonicalDumper.add_representer(str, _represent_str)
_CanonicalDumper.add_representer(list, _represent_list)
_CanonicalDumper.add_representer(tuple, _represent_list)


def _first_alias_or_anchor(text: str) -> yaml.Token | None:
    """The first anchor or alias token of a YAML text (scanning is linear: nothing is expanded)."""
    if "&" not in text and "*" not in text:
        return None
    loader = _SafeLoader(text)
    try:
        while loader.check_token():
            token = loader.get_token()
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                return token
    finally:
        loader.dispose()
    return None


def _refuse_aliases(text: str, name: str) -> None:
    token = _first_alias_or_anchor(text)
    if token is not None:
        kind = "anchor" if isinstance(token, yaml.AnchorToken) else "alias"
        sign = "&" if kind == "anchor" else "*"
        mark = token.start_mark
        raise InputError(Problem(
            file=name, entry=f"line {mark.line + 1}", message=f"YAML {kind} '{sign}{token.value}' at column "
            f"{mark.column + 1}: anchors and aliases are not allowed in framework files; write the value out"))


KEPT_CHARACTERS = 1 << 22  # how much text a process keeps parsed, and rendered, at most (the newest is kept)
_parsed_texts: OrderedDict[str, Any] = OrderedDict()
_cache_lock = threading.Lock()
_kept = [0]  # characters in _parsed_texts


def _parsed(text: str, name: str) -> Any:
    """The data of a YAML text (kept for the next read of the same text); YAMLError or InputError as in read_yaml."""
    with _cache_lock:
        if text in _parsed_texts:
            _parsed_texts.move_to_end(text)
            return _parsed_texts[text]
    _refuse_aliases(text, name)
    data = yaml.load(text, Loader=_StrictLoader)
    with _cache_lock:
        if text not in _parsed_texts:
            _parsed_texts[text] = data
            _kept[0] += len(text)
        while _kept[0] > KEPT_CHARACTERS:
            _kept[0] -= len(_parsed_texts.popitem(last=False)[0])
    return data


def _copied(data: Any) -> Any:
    """A copy of parsed YAML that shares nothing mutable with `data` (its scalars are immutable)."""
    if isinstance(data, dict):
        return {key: _copied(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_copied(value) for value in data]
    if isinstance(data, set):
        return set(data)
    if isinstance(data, tuple):
        return tuple(_copied(value) for value in data)
    return data


def read_yaml(path: Path, display: str | None = None) -> Any:
    """Parse a YAML file; malformed YAML, anchors and aliases raise InputError naming the file and line."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Problem(file=name, message="file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(file=name, message=f"cannot be read: {exc}")) from None
    try:
        return _copied(_parsed(text, name))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(
            Problem(file=name, message=f"malformed YAML at {where}{exc.problem or exc}")
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(file=name, message=f"malformed YAML: {exc}")) from None


_dumped_texts: OrderedDict[bytes, str] = OrderedDict()
_dumped = [0]  # characters and bytes in _dumped_texts


def dump_yaml(data: Any) -> str:
    """Render data as canonical YAML text (stable key order, block style).

    Data rendered before (equal in value, type and order: its pickle is the key) gives the text kept then, so a
    save renders only the files that changed."""
    try:
        key: bytes | None = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # data pickle cannot write is rendered every time
        key = None
    with _cache_lock:
        if key is not None and key in _dumped_texts:
            _dumped_texts.move_to_end(key)
            return _dumped_texts[key]
    text = yaml.dump(
        data,
        Dumper=_CanonicalDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    if key is not None:
        with _cache_lock:
            if key not in _dumped_texts:
                _dumped_texts[key] = text
                _dumped[0] += len(key) + len(text)
            while _dumped[0] > KEPT_CHARACTERS:
                old_key, old_text = _dumped_texts.popitem(last=False)
                _dumped[0] -= len(old_key) + len(old_text)
    return text
