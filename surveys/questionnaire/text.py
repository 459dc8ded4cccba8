"""Placeholders in survey texts and the genitive of a name.

Relative-facing item texts may contain two placeholders:

- ``{name}``: the citizen's first name, or the survey's fallback
  ("din pårørende") when the name is not known;
- ``{name_gen}``: the genitive of the same ("Annas", "Lars'", "din pårørendes").

Nothing else in braces is allowed. The texts are filled by
:func:`fill_placeholders` *after* translation, so a translated text keeps the
placeholders and gets the genitive rule of its own language.
"""

from __future__ import annotations

import re

NAME = "name"
NAME_GEN = "name_gen"
PLACEHOLDERS: frozenset[str] = frozenset({NAME, NAME_GEN})

_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


class PlaceholderError(ValueError):
    """A text has braces that are not a well-formed placeholder."""


def placeholders_in(text: str) -> list[str]:
    """Return the placeholder names used in ``text``, in order of appearance.

    Raises :class:`PlaceholderError` when a ``{`` or ``}`` is not part of a
    ``{...}`` pair (so a typo like ``{name`` is caught when the file is loaded,
    not when a person gets the question).
    """
    names = _PLACEHOLDER_RE.findall(text)
    rest = _PLACEHOLDER_RE.sub("", text)
    if "{" in rest or "}" in rest:
        raise PlaceholderError(
            "has a '{' or '}' that is not part of a placeholder like {name} or {name_gen}"
        )
    return names


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_", 1)[0].strip().lower()


def genitive(name: str, locale: str) -> str:
    """Return the genitive ("possessive") form of ``name`` in ``locale``.

    Danish (``da``, ``da_DK``; also the fallback for languages without a rule
    here): add "s", or only an apostrophe after s, x or z::

        Anna -> Annas, Lars -> Lars', Alex -> Alex', din pårørende -> din pårørendes

    English (``en``, ``en_GB``, ...): add "'s", or only an apostrophe after s::

        Anna -> Anna's, James -> James', your relative -> your relative's

    Surrounding whitespace is dropped; an empty name stays empty.
    """
    name = name.strip()
    if not name:
        return name
    last = name[-1].lower()
    if _language(locale) == "en":
        return f"{name}'" if last == "s" else f"{name}'s"
    return f"{name}'" if last in "sxz" else f"{name}s"


def fill_placeholders(text: str, name: str, locale: str) -> str:
    """Replace ``{name}`` and ``{name_gen}`` in ``text``.

    ``name`` is the citizen's first name, or the (translated) fallback such as
    "din pårørende" when the name is not known. The genitive follows the
    grammar of ``locale``. Unknown ``{...}`` parts are left as they are rather
    than raising: a broken translation must not stop a survey halfway.
    """

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == NAME:
            return name.strip()
        if key == NAME_GEN:
            return genitive(name, locale)
        return match.group(0)

    return _PLACEHOLDER_RE.sub(replace, text)
