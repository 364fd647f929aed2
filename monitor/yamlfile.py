"""Load a YAML file and validate it against a pydantic model, reporting problems by line.

ruamel.yaml (round-trip mode) is used rather than PyYAML because it keeps the line of every node,
and because it reads YAML 1.2: ``no`` stays a string and ``22:45`` is not turned into 1365.
"""

from __future__ import annotations

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
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError([Problem(str(path), line, "", f"invalid YAML: {exc.problem}")]) from None
    except YAMLError as exc:
        raise ConfigError([Problem(str(path), None, "", f"invalid YAML: {exc}")]) from None
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        # ruamel's constructors raise these for explicit tags it cannot build (!!int x).
        raise ConfigError([Problem(str(path), None, "", f"invalid YAML value: {exc!r}")]) from None


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


def dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


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
            problems.append(Problem(str(path), line_of(document, loc), dotted(loc), message))
        raise ConfigError(problems) from None
