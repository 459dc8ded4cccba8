"""Load survey definitions from YAML files and from database snapshots.

Every problem becomes a :class:`SurveyFileError` whose message is one line::

    surveys/standard.yaml: item E1: unknown scale 'TILF' (scales in this file: HYP5, T3) (line 41)

so a person editing a file sees what to fix and where, never a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from surveys.questionnaire.schema import CommentSpec, Item, Scale, Survey, SurveyDefinitionError

__all__ = [
    "SURVEY_DIR",
    "SurveyFileError",
    "load_survey",
    "load_surveys",
    "survey_from_snapshot",
]

SURVEY_DIR = Path(__file__).resolve().parent.parent
"""The directory holding the packaged survey files (standard.yaml, ...)."""

Loc = tuple[str | int, ...]


class SurveyFileError(Exception):
    """A survey file (or snapshot) cannot be used.

    ``str(error)`` is one line: ``<path>: [item <id>: ]<what is wrong>[ (line N)]``.
    The parts are also available as attributes.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        problem: str,
        *,
        subject: str | None = None,
        line: int | None = None,
        more: int = 0,
    ) -> None:
        self.path = str(path)
        self.problem = _one_line(problem)
        self.subject = subject
        self.line = line
        self.more = more
        message = f"{self.path}: "
        if subject:
            message += f"{subject}: "
        message += self.problem
        if line is not None:
            message += f" (line {line})"
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        super().__init__(message)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# --------------------------------------------------------------------- public


def load_survey(path: str | os.PathLike[str]) -> Survey:
    """Read and validate one survey YAML file.

    Raises :class:`SurveyFileError` for an unreadable file, broken YAML or a
    survey that breaks a rule of the format.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SurveyFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SurveyFileError(
            path, f"the file is not UTF-8 text (bad byte at position {exc.start})"
        ) from None
    root, data = parse_yaml(text, path)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise SurveyFileError(
            path,
            f"the file must be a mapping (id, version, title, intro, scales, items, "
            f"comment), not {kind}",
            line=root.start_mark.line + 1,
        )
    return _validate(data, path, root)


def load_surveys(directory: str | os.PathLike[str] | None = None) -> dict[str, Survey]:
    """Load every ``*.yaml`` in ``directory`` (default: the surveys package).

    Returns ``{survey.id: survey}``. Two files with the same survey id are an
    error: keep older versions in the database (as snapshots), not as files.
    """
    folder = SURVEY_DIR if directory is None else Path(directory)
    if not folder.is_dir():
        raise SurveyFileError(folder, "is not a directory")
    surveys: dict[str, Survey] = {}
    origin: dict[str, Path] = {}
    for file in sorted(folder.glob("*.yaml")):
        survey = load_survey(file)
        if survey.id in surveys:
            raise SurveyFileError(
                file,
                f"survey id {survey.id!r} is already used by {origin[survey.id]}",
            )
        surveys[survey.id] = survey
        origin[survey.id] = file
    return surveys


def survey_from_snapshot(data: Mapping[str, Any]) -> Survey:
    """Rebuild a survey from :meth:`Survey.snapshot` output (e.g. a JSON column)."""
    label = "snapshot"
    if isinstance(data, Mapping):
        label = f"snapshot of {data.get('id', '?')} v{data.get('version', '?')}"
        return _validate(dict(data), label, None)
    raise SurveyFileError(label, f"a snapshot must be a mapping, not {type(data).__name__}")


# ------------------------------------------------------------------- parsing


def parse_yaml(text: str, path: str | os.PathLike[str]) -> tuple[yaml.Node, Any]:
    """Parse one YAML document: its node tree (for line numbers) and its data.

    Raises :class:`SurveyFileError` for an empty file, broken YAML or a key
    written twice in one block.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SurveyFileError(path, "the file is empty")
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        where = ""
        subject = None
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
            subject = _item_before(text, mark.line)
        started = exc.context_mark
        if (
            exc.problem
            and exc.context
            and started is not None
            and mark is not None
            and started.line != mark.line
        ):
            problem += f" {exc.context} that starts at line {started.line + 1}"
        raise SurveyFileError(
            path,
            f"invalid YAML{where}: {problem} (check the indentation, colons and quotes)",
            subject=subject,
        ) from None
    except yaml.YAMLError as exc:
        raise SurveyFileError(path, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    _check_duplicate_keys(root, (), path, data)
    return root, data


_ITEM_START_RE = re.compile(r"""^\s*-\s+id:\s*["']?([A-Za-z0-9_]+)""")
_ITEMS_KEY_RE = re.compile(r"^items\s*:")


def _item_before(text: str, line_index: int) -> str | None:
    """Best guess at the item a YAML syntax error is in: the last ``- id: X``
    above the error line, if it comes after the top-level ``items:`` key."""
    lines = text.splitlines()[: line_index + 1]
    for line in reversed(lines):
        if _ITEMS_KEY_RE.match(line):
            return None
        match = _ITEM_START_RE.match(line)
        if match:
            return f"item {match.group(1)}"
    return None


def _check_duplicate_keys(
    node: yaml.Node, loc: Loc, path: str | os.PathLike[str], data: Any
) -> None:
    """PyYAML silently keeps the last of two equal keys; an editor wants to know."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    subject, _ = _subject(loc, data)
                    raise SurveyFileError(
                        path,
                        f"the key {key.value!r} appears twice in the same block",
                        subject=subject,
                        line=key.start_mark.line + 1,
                    )
                seen.add(key.value)
                _check_duplicate_keys(value, (*loc, key.value), path, data)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _check_duplicate_keys(value, (*loc, index), path, data)


def _line(root: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that exists."""
    if root is None:
        return None
    node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node = value
                    line = key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# ---------------------------------------------------------------- validation


def _validate(data: dict[str, Any], path: str | os.PathLike[str], root: yaml.Node | None) -> Survey:
    try:
        return Survey.model_validate(data)
    except ValidationError as exc:
        raise _from_validation_error(exc, path, data, root) from None


def _subject(loc: Loc, data: Any) -> tuple[str | None, Loc]:
    """Split ``loc`` into what it is about ("item E1", "scale T3") and the rest."""
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        index = loc[1]
        raw_items = data.get("items") if isinstance(data, dict) else None
        item_id = None
        if isinstance(raw_items, list) and 0 <= index < len(raw_items):
            raw = raw_items[index]
            if isinstance(raw, dict) and isinstance(raw.get("id"), str | int):
                item_id = str(raw["id"])
        return (f"item {item_id}" if item_id else f"item #{index + 1}"), loc[2:]
    if len(loc) >= 2 and loc[0] == "scales":
        return f"scale {loc[1]}", loc[2:]
    return None, loc


_MODELS: dict[str, type[BaseModel]] = {
    "items": Item,
    "scales": Scale,
    "comment": CommentSpec,
}


def _model_at(loc: Loc) -> type[BaseModel]:
    if loc and isinstance(loc[0], str):
        return _MODELS.get(loc[0], Survey)
    return Survey


def _field_name(rest: Loc) -> str:
    out = ""
    for part in rest:
        if isinstance(part, int):
            out += f" #{part + 1}"
        elif part == "str" or "[" in part or part.startswith("function-"):
            continue  # pydantic's name for a union branch, not a field
        else:
            out += f".{part}" if out else part
    return out


def _describe(err: ErrorDetails, data: Any) -> tuple[str | None, str, Loc]:
    """Return (subject, problem, loc of the offending value) for one pydantic error."""
    loc: Loc = tuple(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, SurveyDefinitionError):
        full = loc + cause.where
        subject, rest = _subject(full, data)
        if cause.subject:
            subject = cause.subject
        return subject, cause.message, full

    subject, rest = _subject(loc, data)
    kind = err["type"]
    if kind == "missing":
        where = _field_name(rest[:-1])
        problem = f"missing required field {rest[-1]!r}" if rest else "missing"
        if where:
            problem = f"{where}: {problem}"
        return subject, problem, loc[:-1]
    if kind == "extra_forbidden":
        model = _model_at(loc) if len(loc) > 1 else Survey
        allowed = ", ".join(model.model_fields)
        where = _field_name(rest[:-1])
        problem = f"unknown field {rest[-1]!r} (allowed: {allowed})"
        if where:
            problem = f"{where}: {problem}"
        return subject, problem, loc
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    value = err.get("input")
    if isinstance(value, str | int | float):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
        message += f" (got {shown})"
    field = _field_name(rest)
    return subject, (f"{field}: {message}" if field else message), loc


def _from_validation_error(
    exc: ValidationError, path: str | os.PathLike[str], data: Any, root: yaml.Node | None
) -> SurveyFileError:
    errors = exc.errors()
    problems = {tuple(e["loc"])[:3] for e in errors}
    subject, problem, loc = _describe(errors[0], data)
    return SurveyFileError(
        path,
        problem,
        subject=subject,
        line=_line(root, loc),
        more=max(0, len(problems) - 1),
    )
