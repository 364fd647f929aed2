"""Load a YAML file and validate it against a pydantic model, reporting problems by line.

ruamel.yaml (round-trip mode) is used rather than PyYAML because it keeps the line of every node,
and because it reads YAML 1.2: ``no`` stays a string and ``22:45`` is not turned into 1365.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from monitor.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> Any:
    """The file's YAML document as ruamel's commented containers. Raises ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        line, column, message = explain(exc, text.splitlines())
        raise ConfigError([Problem(str(path), line, "", message, column)]) from None
    except YAMLError as exc:
        raise ConfigError([Problem(str(path), None, "", f"invalid YAML: {exc}")]) from None
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        # ruamel's constructors raise these for explicit tags it cannot build (!!int x).
        raise ConfigError([Problem(str(path), None, "", f"invalid YAML value: {exc!r}")]) from None


_KEY_WITHOUT_SPACE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*):(?![\s/]|$)")
_KEY_AND_VALUE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w.-]*):\s+(.*?)\s*$")


def explain(exc: MarkedYAMLError, lines: list[str]) -> tuple[int | None, int | None, str]:
    """(line, column, message) of a YAML syntax error, in words a person editing the file by
    hand can act on; the parser's own words follow in brackets."""
    mark, context = exc.problem_mark, exc.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    text = lines[line - 1] if line and line <= len(lines) else ""
    problem = exc.problem or ""
    said = f" (the parser says: {problem})"
    if "'\\t'" in problem or "\t" in problem:
        return (
            line,
            column,
            "a tab character: YAML indents with spaces only; replace it with spaces",
        )
    if "duplicate key" in problem:
        duplicate = re.search(r'duplicate key "([^"]*)"', problem)
        first = f" (first at line {context.line + 1})" if context else ""
        name = f"'{duplicate.group(1)}'" if duplicate else "a key"
        return line, column, f"{name} is written twice in the same entry{first}; keep one"
    if "quoted scalar" in (exc.context or "") and context:
        return (
            context.line + 1,
            context.column + 1,
            "a quote opened here is never closed: end the value with the same quote mark",
        )
    if "could not find expected ':'" in problem and context:
        started = lines[context.line] if context.line < len(lines) else ""
        if match := _KEY_WITHOUT_SPACE.match(started):
            return (
                context.line + 1,
                None,
                f"a space is missing after '{match.group(1)}:'; write '{match.group(1)}: value'",
            )
        return context.line + 1, None, "a key without its ':' (write 'key: value')" + said
    if problem == "mapping values are not allowed here":
        value = _KEY_AND_VALUE.match(text)
        if value and ": " in value.group(3) + " " and not value.group(3).startswith(("'", '"')):
            name, rest = value.group(2), value.group(3)
            return (
                line,
                column,
                f"the value of '{name}' contains ': '; put the value in quotes: {name}: \"{rest}\"",
            )
        return (
            line,
            column,
            (
                "this line is indented further than the key above it: the keys of one entry "
                "start in the same column" + said
            ),
        )
    if "<stream end>" in problem:
        return (
            line,
            column,
            (
                "the file ends before the [ or { opened"
                + (f" at line {context.line + 1}" if context else "")
                + " is closed with ] or }"
                + said
            ),
        )
    if problem.startswith("expected <block end>"):
        return (
            line,
            column,
            (
                f"this line's indentation (column {column}) does not match the lines above it: "
                "the keys of one entry, and the '-' of each entry of a list, must each start in "
                "the same column" + said
            ),
        )
    return line, column, f"invalid YAML: {problem}"


def line_of(document: Any, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the node at ``loc`` (a pydantic error location), or of its nearest parent.

    For a key that is present, the key's own line; for a missing key, the line of the mapping that
    should hold it.
    """
    node = document
    line: int | None = _own_line(node)
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            key_line = node.lc.key(part)[0] + 1
            node = node[part]
            line = key_line
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _own_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None


def field_name(document: Any, loc: tuple[int | str, ...]) -> str:
    """A field as a person finds it in the file: a list entry by its ``name``
    (``sources["Trend News Agency (English)"].url``), or by its position counted from 1
    (``sources[entry 14]``) when it has none."""
    out = ""
    node = document
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            out += (
                f'["{name.strip()}"]'
                if isinstance(name, str) and name.strip()
                else (f"[entry {part + 1}]")
            )
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def validate(model: type[M], document: Any, path: Path, context: dict[str, Any] | None = None) -> M:
    """Validate a loaded document; every problem is reported at once with its line."""
    try:
        return model.model_validate(document if document is not None else {}, context=context)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "required field is missing"
            elif message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            field = field_name(document, loc)
            problems.append(Problem(str(path), line_of(document, loc), field, message))
        raise ConfigError(problems) from None
