"""The script file (YAML, or JSON, which YAML reads too): loaded and validated.

An error names the file, the line and the field (``scripts.0.steps.1.tool_call.name``):
pydantic's error locations are walked back through the YAML node tree to the line
they came from. docs/model.md describes the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from golden_path.testing.model.script import Script, ScriptFile

MAX_FILE_BYTES = 16 * 1024 * 1024


class ScriptFileError(ValueError):
    """A script file that cannot be used; the message names the file, line and field."""


def load_scripts(path: Path | str) -> list[Script]:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScriptFileError(f"{path}: over {MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptFileError(f"{path}: cannot be read: {exc}") from None
    return parse_scripts(text, str(path))


def parse_scripts(text: str, source: str = "<script>") -> list[Script]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScriptFileError(f"{source}{line}: not YAML or JSON: {exc}") from None
    if data is None:
        data = {}
    bare_list = isinstance(data, list)  # a bare list of scripts is a file too
    try:
        return ScriptFile.model_validate({"scripts": data} if bare_list else data).scripts
    except ValidationError as exc:
        raise ScriptFileError("\n".join(_describe(exc, node, source, bare_list))) from None


def _describe(exc: ValidationError, root: Any, source: str, bare_list: bool) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = list(error["loc"])
        line = _line_of(root, loc[1:] if bare_list else loc)
        field = ".".join(str(part) for part in loc) or "(top level)"
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: {field}: {error['msg']}")
    return lines


def _line_of(node: Any, loc: list[Any]) -> int | None:
    """The line of the deepest YAML node on ``loc`` that exists (1-based)."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child, line = value, key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def dump_scripts(scripts: list[Script]) -> str:
    data = {"scripts": [s.model_dump(exclude_none=True, exclude_defaults=True) for s in scripts]}
    dumped: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return dumped
