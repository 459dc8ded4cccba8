"""Survey definitions: the data model of a versioned questionnaire.

A survey lives in a YAML file (see ``standard.yaml``) that a person can edit.
This module holds the pydantic models those files are validated against, and
the rules a survey must keep (unique ids, known scales, three T-ILS items, at
most ``max_items_per_person`` questions for one person, placeholders only where
they can be filled).

Answers are stored as the 1-based position of the chosen option in the order
the options are shown. "Ved ikke" (don't know) and "Spring over" (skip) are
not options of any scale: the bot offers them on every question and stores
them apart from the position.

This package has no database code: it never imports aiogram or sqlalchemy (an
import-linter contract in pyproject.toml checks it); it shares the stored enums of
``storage.enums``, which are pure Python.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.enums import Audience, UnitKind
from surveys.questionnaire.text import PLACEHOLDERS, PlaceholderError, placeholders_in


class Theme(StrEnum):
    """The theme an item measures (the values are the Danish tags)."""

    loneliness = "ensomhed"
    meals = "mad"
    continuity = "kontinuitet"
    dignity = "vaerdighed"
    overall = "samlet"
    context = "kontekst"


AUDIENCE_LABELS: dict[Audience, str] = {
    Audience.CITIZEN: "citizens",
    Audience.RELATIVE: "relatives",
}
UNIT_KIND_LABELS: dict[UnitKind, str] = {
    UnitKind.CARE_HOME: "care homes",
    UnitKind.HOME_CARE: "home care",
}

Loc = tuple[str | int, ...]


class SurveyDefinitionError(ValueError):
    """A rule of the survey format is broken.

    ``subject`` names what is wrong ("item E1", "scale T3") when known;
    ``where`` is the path to the offending value, relative to the model that
    raised it, so the loader can point at the YAML line.
    """

    def __init__(self, message: str, *, subject: str | None = None, where: Loc = ()) -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject
        self.where = where


_SURVEY_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")


def _check_key(value: str, what: str) -> str:
    if not _KEY_RE.match(value):
        raise SurveyDefinitionError(
            f"{what} {value!r} must start with a letter and contain only letters, "
            "digits and '_' (at most 16 characters)"
        )
    return value


def _check_no_placeholders(text: str, what: str, where: Loc) -> None:
    try:
        names = placeholders_in(text)
    except PlaceholderError as exc:
        raise SurveyDefinitionError(f"{what} {exc}", where=where) from None
    if names:
        raise SurveyDefinitionError(
            f"{what} contains {{{names[0]}}}; placeholders are only allowed in "
            "relative-facing item texts",
            where=where,
        )


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        str_min_length=1,
    )


class Scale(_Model):
    """An answer scale: the option labels in the order they are shown."""

    id: str
    options: list[str] = Field(min_length=2)
    best: Literal["first", "last", "none"]
    """Which end is the most positive; "none" for a nominal scale (no index,
    no top-2 box), e.g. "who answers" (H1) or "how many staff" (K1)."""
    smileys: list[str] | None = None
    """Optional emoji shown BEFORE each option's words (never alone)."""

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_key(value, "scale id")

    @model_validator(mode="after")
    def _check(self) -> Self:
        subject = f"scale {self.id}"
        seen: set[str] = set()
        for index, option in enumerate(self.options):
            if option.casefold() in seen:
                raise SurveyDefinitionError(
                    f"option {option!r} appears twice", subject=subject, where=("options", index)
                )
            seen.add(option.casefold())
            _check_no_placeholders(option, f"option {option!r}", ("options", index))
            if option.casefold() in {"ved ikke", "spring over"}:
                raise SurveyDefinitionError(
                    f"option {option!r} must not be part of a scale: the bot offers "
                    "'Ved ikke' and 'Spring over' on every question",
                    subject=subject,
                    where=("options", index),
                )
        if self.smileys is not None and len(self.smileys) != len(self.options):
            raise SurveyDefinitionError(
                f"has {len(self.smileys)} smileys for {len(self.options)} options; "
                "give one smiley per option (or none at all)",
                subject=subject,
                where=("smileys",),
            )
        return self

    @property
    def size(self) -> int:
        """Number of options (K)."""
        return len(self.options)

    @property
    def ordinal(self) -> bool:
        """True unless the scale is nominal (``best == "none"``)."""
        return self.best != "none"

    def check_value(self, value: int) -> int:
        """Return ``value`` if it is a valid 1-based position, else raise ValueError."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"answer must be an option position (int), got {value!r}")
        if not 1 <= value <= self.size:
            raise ValueError(f"answer {value} is outside scale {self.id} (1..{self.size})")
        return value

    def option(self, value: int) -> str:
        """The Danish label of the option at 1-based position ``value``."""
        return self.options[self.check_value(value) - 1]

    def label(self, value: int, text: str | None = None) -> str:
        """Button label for position ``value``: smiley (if any) before the words.

        Pass ``text`` to decorate a translated label instead of the Danish one.
        """
        words = self.option(value) if text is None else text
        if self.smileys:
            return f"{self.smileys[value - 1]} {words}"
        return words


class Item(_Model):
    """One question."""

    id: str
    theme: Theme
    audience: list[Audience] = Field(min_length=1)
    unit_kinds: list[UnitKind] | None = None
    """None: asked in every kind of unit."""
    scale: str
    text: str | dict[Audience, str]
    """Danish wording; a mapping when citizen and relative wording differ.
    Relative-facing texts may use {name} and {name_gen}."""
    tils: bool = False
    """One of the three T-ILS loneliness items (Hughes et al. 2004)."""
    proxy_values: list[int] = []
    """Answer positions that mark the whole response as given by or with help
    from someone else (H1)."""
    negative: bool = False
    """The item's headline share is a negative indicator: higher is worse (E1)."""

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_key(value, "item id")

    @field_validator("text", mode="before")
    @classmethod
    def _text_shape(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            allowed = {a.value for a in Audience}
            for key, text in value.items():
                if key not in allowed:
                    raise SurveyDefinitionError(
                        f"text has a wording for {key!r}; use 'citizen' and/or 'relative'",
                        where=(str(key),),
                    )
                if not isinstance(text, str):
                    raise SurveyDefinitionError(
                        f"text for {key} must be a string", where=(str(key),)
                    )
            return value
        raise SurveyDefinitionError(
            "text must be a string, or a mapping from audience (citizen, relative) to a string"
        )

    @model_validator(mode="after")
    def _check(self) -> Self:
        subject = f"item {self.id}"
        if len(set(self.audience)) != len(self.audience):
            raise SurveyDefinitionError(
                "audience lists the same audience twice", subject=subject, where=("audience",)
            )
        if self.unit_kinds is not None:
            if not self.unit_kinds:
                raise SurveyDefinitionError(
                    "unit_kinds is empty; leave it out to ask in every kind of unit",
                    subject=subject,
                    where=("unit_kinds",),
                )
            if len(set(self.unit_kinds)) != len(self.unit_kinds):
                raise SurveyDefinitionError(
                    "unit_kinds lists the same kind twice", subject=subject, where=("unit_kinds",)
                )
        if isinstance(self.text, dict):
            given = set(self.text)
            wanted = set(self.audience)
            if given != wanted:
                missing = sorted(wanted - given)
                extra = sorted(given - wanted)
                parts = []
                if missing:
                    parts.append("no text for " + ", ".join(missing))
                if extra:
                    parts.append(
                        "a text for " + ", ".join(extra) + " which is not in the item's audience"
                    )
                raise SurveyDefinitionError("; ".join(parts), subject=subject, where=("text",))
        for audience in self.audience:
            text = self.text if isinstance(self.text, str) else self.text[audience]
            where: Loc = ("text",) if isinstance(self.text, str) else ("text", audience.value)
            try:
                names = placeholders_in(text)
            except PlaceholderError as exc:
                raise SurveyDefinitionError(f"text {exc}", subject=subject, where=where) from None
            for name in names:
                if name not in PLACEHOLDERS:
                    raise SurveyDefinitionError(
                        f"unknown placeholder {{{name}}} in the text; only {{name}} and "
                        "{name_gen} are allowed",
                        subject=subject,
                        where=where,
                    )
            if names and audience is not Audience.RELATIVE:
                raise SurveyDefinitionError(
                    f"the {audience.value} text uses {{{names[0]}}}; placeholders are only "
                    "allowed in relative-facing texts (give the citizen its own wording)",
                    subject=subject,
                    where=where,
                )
        if len(set(self.proxy_values)) != len(self.proxy_values):
            raise SurveyDefinitionError(
                "proxy_values lists a position twice", subject=subject, where=("proxy_values",)
            )
        return self

    def asked_of(self, audience: Audience | str, unit_kind: UnitKind | str) -> bool:
        """True if this item is asked of ``audience`` in a unit of ``unit_kind``."""
        audience, unit_kind = Audience(audience), UnitKind(unit_kind)
        return audience in self.audience and (
            self.unit_kinds is None or unit_kind in self.unit_kinds
        )

    def text_for(self, audience: Audience | str) -> str:
        """The (untranslated, unfilled) wording shown to ``audience``."""
        audience = Audience(audience)
        if audience not in self.audience:
            raise ValueError(f"item {self.id} is not asked of {AUDIENCE_LABELS[audience]}")
        return self.text if isinstance(self.text, str) else self.text[audience]


class CommentSpec(_Model):
    """The optional free-text comment at the end of the survey."""

    prompt: str
    warning: str
    """Tells people not to write names or health details."""
    max_length: int = Field(default=1000, ge=1, le=4000)


class Survey(_Model):
    """One version of a questionnaire."""

    id: str
    version: int = Field(ge=1)
    title: str
    intro: str
    """One short Danish sentence on what the survey is about."""
    scales: dict[str, Scale]
    items: list[Item] = Field(min_length=1)
    comment: CommentSpec
    name_fallback: str = "din pårørende"
    """Used for {name} when the citizen's first name is not known."""
    max_items_per_person: int = Field(default=10, ge=1)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _SURVEY_ID_RE.match(value):
            raise SurveyDefinitionError(
                f"survey id {value!r} must be lower-case letters, digits, '_' or '-' "
                "(at most 32 characters)"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _scale_ids_from_keys(cls, data: Any) -> Any:
        """Let a YAML file leave out ``id`` in a scale: the key is the id."""
        if not isinstance(data, dict) or not isinstance(data.get("scales"), dict):
            return data
        scales: dict[Any, Any] = {}
        for key, scale in data["scales"].items():
            if isinstance(scale, dict):
                if "id" not in scale:
                    scale = {"id": key, **scale}
                elif scale["id"] != key:
                    raise SurveyDefinitionError(
                        f"has id {scale['id']!r} but is listed under {key!r}; "
                        "they must be the same",
                        subject=f"scale {key}",
                        where=("scales", str(key), "id"),
                    )
            scales[key] = scale
        return {**data, "scales": scales}

    @model_validator(mode="after")
    def _check(self) -> Self:
        for where, text, what in (
            (("title",), self.title, "title"),
            (("intro",), self.intro, "intro"),
            (("comment", "prompt"), self.comment.prompt, "comment prompt"),
            (("comment", "warning"), self.comment.warning, "comment warning"),
            (("name_fallback",), self.name_fallback, "name_fallback"),
        ):
            _check_no_placeholders(text, what, where)

        seen: dict[str, int] = {}
        for index, item in enumerate(self.items):
            subject = f"item {item.id}"
            if item.id in seen:
                raise SurveyDefinitionError(
                    f"the id is used twice (items {seen[item.id] + 1} and {index + 1})",
                    subject=subject,
                    where=("items", index, "id"),
                )
            seen[item.id] = index
            scale = self.scales.get(item.scale)
            if scale is None:
                known = ", ".join(sorted(self.scales)) or "none"
                raise SurveyDefinitionError(
                    f"unknown scale {item.scale!r} (scales in this file: {known})",
                    subject=subject,
                    where=("items", index, "scale"),
                )
            for position in item.proxy_values:
                if not 1 <= position <= scale.size:
                    raise SurveyDefinitionError(
                        f"proxy_values has {position}, but scale {scale.id} has "
                        f"positions 1..{scale.size}",
                        subject=subject,
                        where=("items", index, "proxy_values"),
                    )
            if item.negative and not scale.ordinal:
                raise SurveyDefinitionError(
                    f"is marked negative but scale {scale.id} is nominal (best: none)",
                    subject=subject,
                    where=("items", index, "negative"),
                )

        self._check_tils()
        self._check_counts()
        return self

    def _check_tils(self) -> None:
        tils = [(i, item) for i, item in enumerate(self.items) if item.tils]
        if not tils:
            return
        if len(tils) != 3:
            index, item = tils[-1] if len(tils) > 3 else tils[0]
            ids = ", ".join(it.id for _, it in tils)
            raise SurveyDefinitionError(
                f"the T-ILS loneliness scale needs exactly three items marked tils, "
                f"found {len(tils)} ({ids})",
                subject=f"item {item.id}",
                where=("items", index, "tils"),
            )
        first = tils[0][1]
        for index, item in tils:
            scale = self.scales[item.scale]
            if scale.size != 3 or not scale.ordinal:
                raise SurveyDefinitionError(
                    f"T-ILS items must use a 3-option ordered scale (like T3), but scale "
                    f"{scale.id} has {scale.size} options"
                    + ("" if scale.ordinal else " and is nominal"),
                    subject=f"item {item.id}",
                    where=("items", index, "scale"),
                )
            same_kinds = (item.unit_kinds is None) == (first.unit_kinds is None) and set(
                item.unit_kinds or ()
            ) == set(first.unit_kinds or ())
            if set(item.audience) != set(first.audience) or not same_kinds:
                raise SurveyDefinitionError(
                    f"T-ILS items must be asked of the same people; {item.id} differs from "
                    f"{first.id} in audience or unit_kinds",
                    subject=f"item {item.id}",
                    where=("items", index),
                )

    def _check_counts(self) -> None:
        for audience in Audience:
            for kind in UnitKind:
                count = 0
                for index, item in enumerate(self.items):
                    if not item.asked_of(audience, kind):
                        continue
                    count += 1
                    if count > self.max_items_per_person:
                        total = len(self.items_for(audience, kind))
                        raise SurveyDefinitionError(
                            f"{AUDIENCE_LABELS[audience]} in {UNIT_KIND_LABELS[kind]} would "
                            f"get {total} questions; at most {self.max_items_per_person} are "
                            "allowed (max_items_per_person); this is the first one too many",
                            subject=f"item {item.id}",
                            where=("items", index),
                        )
                if count == 0:
                    raise SurveyDefinitionError(
                        f"no questions for {AUDIENCE_LABELS[audience]} in "
                        f"{UNIT_KIND_LABELS[kind]}; every audience and unit kind needs "
                        "at least one",
                        where=("items",),
                    )

    # ------------------------------------------------------------------ queries

    def items_for(self, audience: Audience | str, unit_kind: UnitKind | str) -> list[Item]:
        """The items asked of ``audience`` in a unit of ``unit_kind``, in file order.

        Plain strings ("citizen", "home_care") are accepted; an unknown value
        raises ValueError.
        """
        who, kind = Audience(audience), UnitKind(unit_kind)
        return [item for item in self.items if item.asked_of(who, kind)]

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        """Every item by its id (a survey is frozen, so this is built once)."""
        return {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        """The item with id ``item_id``; KeyError if there is none."""
        found = self.items_by_id.get(item_id)
        if found is None:
            raise KeyError(f"survey {self.id} v{self.version} has no item {item_id!r}")
        return found

    def scale_of(self, item: Item | str) -> Scale:
        """The scale an item (or item id) is answered on."""
        found = self.item(item) if isinstance(item, str) else item
        return self.scales[found.scale]

    def text_for(self, item: Item | str, audience: Audience | str) -> str:
        """The untranslated wording of an item (or item id) for ``audience``.

        Placeholders are left unfilled: translate first, then call
        ``surveys.questionnaire.text.fill_placeholders``.
        """
        found = self.item(item) if isinstance(item, str) else item
        return found.text_for(Audience(audience))

    @property
    def audiences(self) -> tuple[Audience, ...]:
        """The audiences this survey asks, in a fixed order (citizen first)."""
        used = {a for item in self.items for a in item.audience}
        return tuple(a for a in Audience if a in used)

    @property
    def tils_items(self) -> list[Item]:
        """The three T-ILS loneliness items, in file order (empty if none)."""
        return [item for item in self.items if item.tils]

    @property
    def themes(self) -> tuple[Theme, ...]:
        """The themes used by any item, in Theme order."""
        used = {item.theme for item in self.items}
        return tuple(t for t in Theme if t in used)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy of this exact version, for storing in a database.

        ``surveys.questionnaire.loader.survey_from_snapshot`` turns it back into an equal Survey.
        """
        return self.model_dump(mode="json")
