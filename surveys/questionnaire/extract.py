"""Babel extractor for survey YAML files.

Registered in pyproject.toml as the ``pejling_survey`` extraction method, so a
Babel mapping file can say::

    [pejling_survey: surveys/**.yaml]

Every person-facing string is extracted with its real line number and a
translator comment saying where it comes from: the title, the intro, every
scale option, every item text (each audience's wording separately), the
comment prompt and warning, and the name fallback. The msgid is the Danish
text exactly as the bot looks it up (surrounding whitespace removed, as the
survey model does).

The extractor reads the YAML node tree only, so it also works on a file that
is not (yet) a valid survey; broken YAML raises ``SurveyFileError``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml

from surveys.questionnaire.loader import SurveyFileError, parse_yaml
from surveys.questionnaire.schema import Survey

__all__ = ["extract_survey"]

_STR_TAG = "tag:yaml.org,2002:str"
_PLACEHOLDER_NOTE = (
    "{name} is the citizen's first name (or the fallback), {name_gen} its genitive "
    "(Danish: Annas, Lars'); keep both exactly as they are."
)
_DEFAULT_NAME_FALLBACK = str(Survey.model_fields["name_fallback"].default)

Result = tuple[int, None, str, list[str]]


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value
                return found
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return None


def _message(node: yaml.Node | None, comments: list[str]) -> Result | None:
    """(lineno, None, text, comments) for a string scalar, else None."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
        return None
    text = node.value.strip()
    if not text:
        return None
    if "{" in text:
        comments = [*comments, _PLACEHOLDER_NOTE]
    return node.start_mark.line + 1, None, text, comments


def _audiences(item: yaml.Node) -> list[str]:
    node = _get(item, "audience")
    if isinstance(node, yaml.SequenceNode):
        return [str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode)]
    single = _scalar(node)
    return [single] if single else []


def _walk(root: yaml.Node) -> Iterator[Result]:
    survey_id = _scalar(_get(root, "id")) or "?"
    version = _scalar(_get(root, "version")) or "?"
    prefix = f"survey {survey_id} v{version}"

    def found(node: yaml.Node | None, where: str) -> Iterator[Result]:
        result = _message(node, [f"{prefix}, {where}"])
        if result is not None:
            yield result

    yield from found(_get(root, "title"), "title")
    yield from found(_get(root, "intro"), "intro")

    scales = _get(root, "scales")
    if isinstance(scales, yaml.MappingNode):
        for key_node, scale in scales.value:
            options = _get(scale, "options")
            if not isinstance(options, yaml.SequenceNode):
                continue
            count = len(options.value)
            for position, option in enumerate(options.value, start=1):
                yield from found(
                    option, f"scale {key_node.value}, answer option {position} of {count}"
                )

    items = _get(root, "items")
    if isinstance(items, yaml.SequenceNode):
        for item in items.value:
            item_id = _scalar(_get(item, "id")) or "?"
            text = _get(item, "text")
            if isinstance(text, yaml.MappingNode):
                for key_node, variant in text.value:
                    yield from found(variant, f"item {item_id} ({key_node.value})")
            else:
                audiences = ", ".join(_audiences(item)) or "all"
                yield from found(text, f"item {item_id} ({audiences})")

    comment = _get(root, "comment")
    yield from found(_get(comment, "prompt"), "free-text comment: question")
    yield from found(
        _get(comment, "warning"), "free-text comment: warning not to write names or health"
    )

    fallback = _get(root, "name_fallback")
    where = "name_fallback: used for {name} when the citizen's name is not known"
    if fallback is not None:
        yield from found(fallback, where)
    else:
        line = root.start_mark.line + 1
        yield line, None, _DEFAULT_NAME_FALLBACK, [f"{prefix}, {where} (default)"]


def extract_survey(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Result]:
    """Babel extraction method: yield ``(lineno, None, message, [comment])``.

    ``keywords`` and ``comment_tags`` do not apply to YAML and are ignored.
    ``options`` may give an ``encoding`` (default UTF-8).
    """
    name = str(getattr(fileobj, "name", "<survey>"))
    encoding = str(options.get("encoding") or "utf-8")
    try:
        text = fileobj.read().decode(encoding)
    except UnicodeDecodeError as exc:
        raise SurveyFileError(name, f"the file is not {encoding} text ({exc.reason})") from None
    root, _ = parse_yaml(text, name)
    if not isinstance(root, yaml.MappingNode):
        return
    yield from _walk(root)
