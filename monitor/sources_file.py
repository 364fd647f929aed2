"""Add a source to ``sources.yaml`` the way a careful person would by hand.

The new entry is spliced into the file's text rather than the whole document being dumped again:
ruamel's round-trip dump keeps comments but re-flows indentation, spacing and line breaks of
everything else, and a press officer's hand-written file should not change where they did not
touch it. ruamel is used to read the file and to find, from its node marks, where the last entry
ends and how entries are indented; the result is read back and validated with ``load_config``
before it replaces the original, so a refused or failed append leaves the file as it was.
"""

from __future__ import annotations

import html
import os
import re
import stat
import tempfile
from collections.abc import Collection, Mapping
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from monitor.config import load_config
from monitor.errors import ConfigError, Problem
from monitor.urls import canonical_or_same
from monitor.yamlfile import field_name, line_of, read_yaml

__all__ = ["append_source", "entry_yaml", "suggest_name"]

_KEY_ORDER = ("name", "url", "language", "country")
# Strings YAML 1.2 (our loader) reads as strings but YAML 1.1 tools and readers take for
# booleans or null: quoted, so that "no" as a name or language code reads as what it is.
_AMBIGUOUS = re.compile(r"(?i:y|n|yes|no|on|off|true|false|null|~)")


def entry_yaml(entry: Mapping[str, object]) -> str:
    """The entry as ``append_source`` writes it, for showing before it is written."""
    lines = _dump(_ordered(entry), flow=False).split("\n")
    return "\n".join(["  - " + lines[0], *("    " + line for line in lines[1:])]) + "\n"


def append_source(path: Path, entry: Mapping[str, object], *, dry_run: bool = False) -> int:
    """Append ``entry`` to the ``sources:`` list of ``path``; the 1-based line of the new entry.

    Keys are written in the order name, url, language, country, then the others as given; keys
    whose value is None are left out. Raises ConfigError, with the file untouched, when the file
    is missing or has no ``sources:`` list, when a source with the same name (ignoring case) or
    the same canonical URL is already there, or when the result would not load. With
    ``dry_run`` every check is made and nothing is written.
    """
    ordered = _ordered(entry)
    document = read_yaml(path)  # ConfigError for a missing or unreadable file, or bad YAML
    file = str(path)
    if document is None:
        raise ConfigError([Problem(file, None, "", "file is empty; expected a 'sources' list")])
    if not isinstance(document, dict):
        raise ConfigError([Problem(file, 1, "", "expected a mapping with a 'sources' list")])
    sources = document.get("sources")
    if sources is None and "sources" in document:
        sources = []  # "sources:" with nothing yet: the first entry starts the list
    if not isinstance(sources, list):
        if "sources" not in document:
            where, what = line_of(document, ()), "no 'sources' list in the file's top-level mapping"
        else:
            where, what = line_of(document, ("sources",)), "is not a list of sources"
        raise ConfigError([Problem(file, where, "sources", what)])
    _refuse_duplicates(file, document, sources, ordered)

    text = path.read_bytes().decode("utf-8")
    splice = _splice if sources else _splice_first
    new_text, line, added = splice(text, ordered)
    _check_result(file, new_text, len(sources), ordered, line)
    _write_checked(path, new_text, len(sources), line, added, dry_run=dry_run)
    return line


def suggest_name(title: str, url: str, existing: Collection[str]) -> str:
    """A short source name from a feed's title, else from the URL's host, unique in ``existing``
    (compared ignoring case, as ``sources.yaml`` does): "Dawn", "Dawn (2)", ..."""
    name = _clean_title(title)
    if not name:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
        name = host[4:] if host.startswith("www.") else host
    name = name or "Source"
    taken = {e.strip().casefold() for e in existing}
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


# --- naming ---------------------------------------------------------------------------------

_MAX_NAME = 60
# What feed titles add to the outlet's name: "Dawn - RSS", "Blog » Feed", "RSS: Trend.az".
_NOISE = re.compile(
    r"""
    \s*(?:[-–—|:»·]\s*)?            # a separator before the noise, if any
    (?:(?:main|all|latest|top)(?:\s+news)?\s+)?
    \b(?:rss\s*2\.0|rss|atom)(?:\s+(?:feeds?|news|channel))?
    \s*$
    |
    \s*(?:[-–—|:»·]\s*)?
    \b(?:(?:rss|atom|news)\s+)?feeds?\s*$
    |
    ^\s*(?:rss|atom)(?:\s+feeds?)?\s*(?:[-–—|:»·]\s*)
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _clean_title(title: str) -> str:
    name = " ".join(html.unescape(title).split())
    while True:
        cleaned = _NOISE.sub("", name).strip(" -–—|:»·")
        if cleaned == name:
            break
        name = cleaned
    if len(name) > _MAX_NAME:
        name = name[:_MAX_NAME].rsplit(" ", 1)[0].rstrip(" -–—|:,;»·") + "…"
    return name


# --- checks ---------------------------------------------------------------------------------


def _ordered(entry: Mapping[str, object]) -> dict[str, object]:
    name, url = entry.get("name"), entry.get("url")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("entry needs a non-empty 'name'")
    if not isinstance(url, str) or not url.strip():
        raise ValueError("entry needs a non-empty 'url'")
    keys = [k for k in _KEY_ORDER if k in entry] + [k for k in entry if k not in _KEY_ORDER]
    ordered: dict[str, object] = {}
    for key in keys:
        value = entry[key]
        if value is not None:
            ordered[key] = value.strip() if isinstance(value, str) else value
    return ordered


def _refuse_duplicates(
    file: str, document: Any, sources: list[Any], entry: Mapping[str, object]
) -> None:
    name = str(entry["name"]).casefold()
    url = canonical_or_same(str(entry["url"]))
    problems = []
    for i, existing in enumerate(sources):
        if not isinstance(existing, dict):
            continue
        other_name = existing.get("name")
        if isinstance(other_name, str) and other_name.strip().casefold() == name:
            problems.append(
                Problem(
                    file,
                    line_of(document, ("sources", i, "name")),
                    field_name(document, ("sources", i, "name")),
                    f"a source named {other_name.strip()!r} already exists",
                )
            )
        other_url = existing.get("url")
        # Canonical form: http://Example.com:80/feed and http://example.com/feed are one feed.
        if isinstance(other_url, str) and canonical_or_same(other_url) == url:
            problems.append(
                Problem(
                    file,
                    line_of(document, ("sources", i, "url")),
                    field_name(document, ("sources", i, "url")),
                    f"{str(entry['url'])!r} is already watched as {str(other_name)!r}",
                )
            )
    if problems:
        raise ConfigError(problems)


def _splice(text: str, entry: Mapping[str, object]) -> tuple[str, int, int]:
    """(new text, 1-based line of the new entry, number of lines inserted)."""
    root = YAML(typ="rt").compose(text)
    seq = next(v for k, v in root.value if isinstance(k, ScalarNode) and k.value == "sources")
    assert isinstance(seq, SequenceNode)
    if seq.flow_style:
        return _splice_flow(text, seq, entry)

    newline = "\r\n" if "\r\n" in text else "\n"
    items: list[Node] = seq.value
    last = items[-1]
    end = _content_end(last).end_mark
    # At the start of the line after the last entry's content, before any blank lines or
    # comments that follow it: those may introduce the next section.
    if end.column == 0:
        pos = end.index
    else:
        eol = text.find("\n", end.index)
        pos = len(text) if eol < 0 else eol + 1
    head, tail = text[:pos], text[pos:]
    if head and not head.endswith("\n"):
        head += newline

    dash, key = _columns(text, last)
    if isinstance(last, MappingNode) and last.flow_style:
        body = [" " * dash + "- " + _dump(entry, flow=True)]
    else:
        lines = _dump(entry, flow=False).split("\n")
        body = [" " * dash + "-" + " " * (key - dash - 1) + lines[0]]
        body += [" " * key + line for line in lines[1:]]
    block = ([""] if _separated(text, items) else []) + body
    line = head.count("\n") + len(block) - len(body) + 1
    return head + newline.join(block) + newline + tail, line, len(block)


def _splice_first(text: str, entry: Mapping[str, object]) -> tuple[str, int, int]:
    """The first entry of an empty list ("sources:", "sources: []"), as a block list under the
    key, whatever comment followed it kept on the key's line."""
    root = YAML(typ="rt").compose(text)
    key = next(k for k, _ in root.value if isinstance(k, ScalarNode) and k.value == "sources")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    index = key.start_mark.line
    comment = lines[index].partition("#")[2]
    lines[index] = "sources:" + (f"  #{comment}" if comment else "")
    dumped = _dump(entry, flow=False).split("\n")
    block = ["  - " + dumped[0]] + ["    " + line for line in dumped[1:]]
    lines[index + 1 : index + 1] = block
    return newline.join(lines), index + 2, len(block)


def _splice_flow(text: str, seq: SequenceNode, entry: Mapping[str, object]) -> tuple[str, int, int]:
    items: list[Node] = seq.value
    # After the last item (a trailing comma then still follows, which is valid), or inside "[".
    pos = items[-1].end_mark.index if items else seq.start_mark.index + 1
    insert = (", " if items else "") + _dump(entry, flow=True)
    line = text.count("\n", 0, pos) + 1
    return text[:pos] + insert + text[pos:], line, 0


def _content_end(node: Node) -> Node:
    """The node whose end is the end of ``node``'s text: block collections end only where the
    next token starts, after any comments, so descend to their last scalar or flow child."""
    while isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node


def _columns(text: str, item: Node) -> tuple[int, int]:
    """(column of the item's dash, column of its first key) for a block sequence item."""
    key = item.start_mark.column
    line_start = text.rfind("\n", 0, item.start_mark.index) + 1
    before = text[line_start : item.start_mark.index]
    dash = before.rfind("-")
    if dash < 0:  # "-" alone on the line above the mapping: rare enough to use a fixed style
        dash = max(key - 2, 0)
        key = dash + 2
    return dash, key


def _separated(text: str, items: list[Node]) -> bool:
    """Whether the file puts a blank line between entries (looked up between the last two)."""
    if len(items) < 2:
        return False
    start = _content_end(items[-2]).end_mark.index
    between = text[start : items[-1].start_mark.index]
    return bool(re.search(r"\n[ \t]*\r?\n", between))


def _dump(entry: Mapping[str, object], *, flow: bool) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # never fold a long URL or name onto a second line
    yaml.allow_unicode = True
    yaml.default_flow_style = flow
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = StringIO()
    data = CommentedMap(
        (k, SingleQuotedScalarString(v) if isinstance(v, str) and _AMBIGUOUS.fullmatch(v) else v)
        for k, v in entry.items()
    )
    if flow:
        data.fa.set_flow_style()
    yaml.dump(data, out)
    return out.getvalue().rstrip("\n")


# --- checking and writing -------------------------------------------------------------------


def _check_result(
    file: str, text: str, before: int, entry: Mapping[str, object], line: int
) -> None:
    """Read back the spliced text: one more source, ours, at the line we report."""
    document = YAML(typ="rt").load(text)
    sources = document.get("sources") if isinstance(document, dict) else None
    ok = (
        isinstance(sources, list)
        and len(sources) == before + 1
        and isinstance(sources[-1], dict)
        and dict(sources[-1]) == dict(entry)
        and line_of(document, ("sources", before)) == line
    )
    if not ok:
        raise ConfigError(
            [Problem(file, None, "sources", "cannot add an entry to this file's layout safely")]
        )


def _write_checked(
    path: Path, text: str, index: int, line: int, added: int, *, dry_run: bool = False
) -> None:
    """Write via a temporary file in the same folder, validated with ``load_config`` before it
    replaces ``path`` (unless ``dry_run``); a symlink is followed so that the link itself
    stays."""
    target = Path(os.path.realpath(path))
    mode = stat.S_IMODE(target.stat().st_mode)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            load_config(tmp)
        except ConfigError as exc:
            problems = [_relocate(p, str(path), index, line, added) for p in exc.problems]
            raise ConfigError(problems) from None
        if dry_run:
            tmp.unlink()
            return
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _relocate(problem: Problem, file: str, index: int, line: int, added: int) -> Problem:
    """A problem of the would-be file, told in terms of the real, unchanged file."""
    new_entry = problem.line is not None and line <= problem.line < line + max(added, 1)
    if new_entry or problem.field.startswith(f"sources[entry {index + 1}]"):
        return Problem(file, None, problem.field, f"{problem.message} (in the new entry)")
    if problem.line is not None and problem.line >= line and added:
        return Problem(file, problem.line - added, problem.field, problem.message)
    return Problem(file, problem.line, problem.field, problem.message)
