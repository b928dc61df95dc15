"""Model fields that keep their values encrypted in the database (see services.lib.crypto).

An encrypted field behaves like its plain twin everywhere in Python (forms, validation,
templates); in the database it is a text column holding a token. Because every encryption
is randomized, the database cannot compare, search or sort these columns: every lookup but
`isnull` is refused with an error instead of silently matching nothing. Exact-match lookup
goes through a BlindIndexField beside the encrypted one.

The empty string is stored as itself (not encrypted), so "no address on file" stays cheap to
ask; it reveals only that a value is missing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core import validators
from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from services.lib import crypto

ALLOWED_LOOKUPS = {"isnull"}


class EncryptedMixin:
    """Turns a Django field into one whose column holds `crypto.encrypt(str(value))`."""

    def get_internal_type(self) -> str:
        return "TextField"

    @property
    def encryption_context(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ALLOWED_LOOKUPS:
            raise FieldError(
                f"{self.encryption_context} is encrypted: the database cannot compare its values "
                f"('{lookup_name}' lookup); only isnull works. For exact matches use a blind index."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, name: str) -> Any:
        return None

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> str | None:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        plaintext = self.to_text(value)
        return crypto.encrypt(plaintext, context=self.encryption_context) if plaintext else ""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return self.empty_value()
        return self.from_text(crypto.decrypt(value, context=self.encryption_context))

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def empty_value(self) -> Any:
        return ""


class EncryptedCharField(EncryptedMixin, models.CharField):
    """max_length limits the plaintext, as for a CharField; the column is unbounded text."""


# Free text is bounded: about four pages. Without a bound one 1 MB note made the person page
# 1 MB and each render of the printable plan take seconds.
TEXT_MAX_LENGTH = 10_000


class BoundedTextMixin:
    """A text field whose max_length the model enforces (`full_clean`), not only its form.

    A TextField's max_length only reaches its form field; this adds the validator a CharField
    has. The default bound is left out of migrations, so it can change without one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", TEXT_MAX_LENGTH)
        super().__init__(*args, **kwargs)
        self.validators.append(validators.MaxLengthValidator(self.max_length))

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == TEXT_MAX_LENGTH:
            del kwargs["max_length"]
        return name, path, args, kwargs


class EncryptedTextField(EncryptedMixin, BoundedTextMixin, models.TextField):
    pass


class BoundedTextField(BoundedTextMixin, models.TextField):
    pass


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    pass


class EncryptedJSONField(EncryptedMixin, models.TextField):
    """A JSON value (dates as ISO strings), encrypted whole: a snapshot of sensitive fields."""

    def get_prep_value(self, value: Any) -> Any:
        return value  # not TextField's str(): the whole value is encoded by to_text

    def to_text(self, value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)

    def from_text(self, text: str) -> Any:
        return json.loads(text)

    def empty_value(self) -> Any:
        return {}


class EncryptedDateField(EncryptedMixin, models.DateField):
    def to_text(self, value: date) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> date:
        return date.fromisoformat(text)

    def empty_value(self) -> None:
        return None


class EncryptedDecimalField(EncryptedMixin, models.DecimalField):
    """A sum of money (an award, a payment): exact in Python, encrypted in the database, so
    the database cannot add these up; a page that needs a total adds them in Python."""

    def to_text(self, value: Decimal) -> str:
        return str(value)

    def from_text(self, text: str) -> Decimal:
        return Decimal(text)

    def empty_value(self) -> None:
        return None


def normalize_ssn(ssn: str) -> str:
    """The nine digits, however they were typed (dashes, spaces)."""
    return re.sub(r"\D", "", ssn)


def normalize_name(name: str) -> str:
    """Case, accents, punctuation and spacing removed: 'José  O'Neil' == 'jose oneil'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", "", letters).split())


def _against_defaults(field: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A deconstructed field's kwargs, for a field with DEFAULTS of its own. Field.deconstruct
    leaves out what equals a plain Field's default (blank=False...), which here is not the
    default: compare with ours, and keep every value that differs."""
    for key, default in field.DEFAULTS.items():
        value = getattr(field, key)
        if value == default:
            kwargs.pop(key, None)
        else:
            kwargs[key] = value
    return kwargs


def fold_words(text: str) -> list[str]:
    """What a name search looks for: the words of `text` folded as stored names are."""
    return normalize_name(text).split()


def index_ssn(ssn: str) -> str:
    return normalize_ssn(ssn)


def index_name_and_birth_date(name: str, born: date | None) -> str:
    return f"{normalize_name(name)}|{born.isoformat()}" if name and born else ""


# An extension at the end of a number ("ext. 12", "x12"), as the phone forms accept it: not
# part of the number a call or a text comes from. Not after a letter ("text", "box").
_PHONE_EXTENSION = re.compile(r"(?<![a-z])(?:ext\.?|x)\s*[0-9]{1,6}\s*$", re.IGNORECASE)
# A phone number as people write it: digits, and spaces, dashes, dots, parentheses, a plus.
_PHONE_WRITTEN = re.compile(r"[0-9\s+().\-]+")
# How an SSN is written ("900-12-3456"): never a phone number, whatever its digits.
_SSN_WRITTEN = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
# The fewest digits of a number one can call: a local number without its area code.
PHONE_MIN_DIGITS = 7


def index_phone(phone: str) -> str:
    """A phone number's digits as a call or a text shows them, however it was written:
    "+1 (555) 010-2030", "555-010-2030" and "5550102030" are all "5550102030" (a US
    number's country code 1 dropped, an extension dropped); "" for fewer than 7 digits (no
    number, or a three-digit line such as 988). Digits only: the letters of a number written
    in words, or of a note beside it ("sister's: 555-0123"), are left out."""
    number = _PHONE_EXTENSION.sub("", unicodedata.normalize("NFKC", phone))
    digits = re.sub(r"[^0-9]", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]  # +1, the North American numbering plan's code
    return digits if len(digits) >= PHONE_MIN_DIGITS else ""


def looks_like_phone(text: str) -> bool:
    """Whether a search is a phone number: 7 digits or more with nothing but what people write
    between them (an extension at the end too), and not written as an SSN is."""
    text = unicodedata.normalize("NFKC", text).strip()
    number = _PHONE_EXTENSION.sub("", text)
    written = _PHONE_WRITTEN.fullmatch(number) and not _SSN_WRITTEN.fullmatch(text)
    return bool(written and index_phone(number))


class DerivedMixin:
    """A column computed from other fields of the row (`sources`) on every save, filled by the
    app and hidden from forms: a save of only some fields writes it when it writes a source
    (Exoneree.save), and a change log leaves it out (it only repeats, or indexes, what its
    sources say). Each kind has its own DEFAULTS, `compute` and construction arguments."""

    DEFAULTS: dict[str, Any]
    sources: list[str]
    attname: str

    def compute(self, instance: models.Model) -> str:
        raise NotImplementedError

    def construction(self) -> dict[str, Any]:
        """The arguments of its own that the field is made with (for migrations)."""
        raise NotImplementedError

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(self.construction())
        return name, path, args, _against_defaults(self, kwargs)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


class BlindIndexField(DerivedMixin, models.CharField):
    """An HMAC of other fields' values, recomputed on every save that includes it.

    `normalize` takes the source fields' values and returns the text to index, or "" when
    there is nothing to index (the column is then "" too, and matches nothing).
    """

    # Not a plain CharField's defaults: an index is filled by the app, hidden from forms, searched.
    DEFAULTS: dict[str, Any] = {"max_length": 80, "blank": True, "editable": False, "db_index": True}

    def __init__(self, *args: Any, purpose: str, sources: list[str], normalize: Callable[..., str], **kwargs: Any):
        self.purpose, self.sources, self.normalize = purpose, list(sources), normalize
        super().__init__(*args, **self.DEFAULTS | kwargs)

    def construction(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "sources": self.sources, "normalize": self.normalize}

    def compute(self, instance: models.Model) -> str:
        normalized = self.normalize(*(getattr(instance, source) for source in self.sources))
        return crypto.blind_index(self.purpose, normalized) if normalized else ""

    def candidates(self, *values: Any) -> list[str]:
        """What to look for in this column to find rows whose sources equal `values`."""
        normalized = self.normalize(*values)
        return crypto.blind_index_candidates(self.purpose, normalized) if normalized else []


class FoldedNameField(DerivedMixin, models.TextField):
    """Another field's name folded by `normalize_name` (case, accents, punctuation gone),
    recomputed on every save that writes its source: what name searches compare, so that
    "Délia" finds Delia and "Munoz" finds Muñoz.

    Folded by the app rather than the database: SQLite folds no accents, PostgreSQL only with
    the unaccent extension (and not as this does), and the blind index of name and birth date
    already folds names this way. Text, not a bounded CharField: folding can lengthen a name
    ("ß" becomes "ss").
    """

    DEFAULTS: dict[str, Any] = {"blank": True, "editable": False}

    def __init__(self, *args: Any, source: str, **kwargs: Any):
        self.source = source
        self.sources = [source]  # as BlindIndexField's, read by a save of only some fields
        super().__init__(*args, **self.DEFAULTS | kwargs)

    def construction(self) -> dict[str, Any]:
        return {"source": self.source}

    def compute(self, instance: models.Model) -> str:
        return normalize_name(getattr(instance, self.source) or "")
