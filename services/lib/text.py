"""Free text as a reader sees it."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import ngettext

# Characters that show nothing: format characters (zero-width spaces and joiners, the byte
# order mark, direction marks), separators (every kind of space, line and paragraph breaks)
# and control characters (tabs, newlines).
INVISIBLE = {"Cf", "Zs", "Zl", "Zp", "Cc"}


def visible_length(text: str) -> int:
    """How many characters of `text` a reader can see: a reason of 25 zero-width spaces has none."""
    return sum(1 for char in text if unicodedata.category(char) not in INVISIBLE)


@deconstructible
class MinVisibleLengthValidator:
    """At least `limit` visible characters: what a minimum length guarding a reason means."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, value: str) -> None:
        if visible_length(value or "") < self.limit:
            raise ValidationError(
                ngettext(
                    "Write at least %(limit)d letter or sign (spaces do not count).",
                    "Write at least %(limit)d letters or signs (spaces do not count).",
                    self.limit,
                )
                % {"limit": self.limit},
                code="min_visible_length",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MinVisibleLengthValidator) and other.limit == self.limit
