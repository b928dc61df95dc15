"""Encryption at rest: what the database holds, what the app reads back, and what happens
when a key is wrong, gone or the stored value was changed behind the app's back.

"Raw" below means the column as the database holds it, read with plain SQL; that is what
someone with a copy of the database (a backup, a replica, a stolen dump) would see.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from services.choices import ReferralStatus
from services.fields import BlindIndexField, EncryptedMixin, index_name_and_birth_date, index_ssn, normalize_name
from services.lib import crypto
from services.lib.crypto import DecryptionError
from services.models.casework import CaseNote
from services.models.consent import EmergencyAccess
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.merges import Merge
from services.models.messages import Message
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import ProviderQuestion, ReferralEvent
from tests.factories import ExonereeFactory, consent_for
from tests.sample_files import document_for
from tests.test_setup import manage as manage_with_timeout
from tests.test_setup import production_env as production_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = f"{crypto.TOKEN_VERSION}$"
FIRST = ("services", "0001_initial")


def encrypted_columns() -> list[tuple[type[models.Model], models.Field]]:
    """Every encrypted field of the services app, found by its class, not from a list."""
    return [
        (model, field)
        for model in apps.get_app_config("services").get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedMixin)
    ]


def raw(model: type[models.Model], name: str, pk: int):
    quote = connection.ops.quote_name
    column, table, key = model._meta.get_field(name).column, model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(key)} = %s", [pk])  # noqa: S608
        (value,) = cursor.fetchone()
    return value


def set_raw(model: type[models.Model], name: str, pk: int, value: str) -> None:
    """Write straight into the column, as someone with database access could."""
    quote = connection.ops.quote_name
    column, table, key = model._meta.get_field(name).column, model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(key)} = %s",  # noqa: S608
            [value, pk],
        )


def distinctive(field: models.Field, n: int):
    """A value for `field` found nowhere else in the database, so its absence proves something."""
    if isinstance(field, models.DateField):
        return date(1961, 7, 1) + timedelta(days=n)
    if isinstance(field, models.DecimalField):  # an award or a payment
        return Decimal(f"{7_123_450 + n}.25")
    if isinstance(field, models.EmailField):
        return f"hidden.person{n}@secret.example"
    if field.max_length and field.max_length <= 30:  # SSN, phone: digits
        return str(7_123_450_000 + n)[-min(field.max_length, 10) :]
    return f"Plain {field.model.__name__}.{field.name} #{n}: señora’s words"


def as_text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def flip_one_character(token: str) -> str:
    """The token with one base64 character in the middle of its body changed."""
    prefix, _, body = token.rpartition("$")
    middle = len(body) // 2
    changed = "A" if body[middle] != "A" else "B"
    return f"{prefix}${body[:middle]}{changed}{body[middle + 1 :]}"


def add_consent_and_emergency_access(world) -> None:
    """And a provider's question, the legal records, a document and a message: the encrypted
    models the world does not have."""
    marcus = world.marcus.exoneree
    claim = CompensationClaim.objects.create(exoneree=marcus, organization=world.org1)
    ClaimPayment.objects.create(claim=claim, received_on=date(2026, 1, 2), amount=Decimal("10.00"))
    InnocenceCertificate.objects.create(exoneree=marcus, court="Cook County")
    RecordClearance.objects.create(exoneree=marcus, organization=world.org1, holder="fbi")
    LegalItem.objects.create(exoneree=marcus, kind="tax_relief")
    consent_for(world.marcus.exoneree, world.marcus.resource.provider)
    EmergencyAccess.objects.create(
        user=world.caseworker2, exoneree=world.marcus.exoneree, reason="A crisis call", expires_at=timezone.now()
    )
    ProviderQuestion.objects.create(
        referral=world.marcus.referral,
        provider=world.marcus.resource.provider,
        text="Does he have a pet?",
        answer="A cat, called Pepper.",
    )
    document_for(world.marcus.exoneree, world.caseworker1, title="Harris County order")
    # A merge keeps the kept record's profile from before it, for an undo (issue 23).
    Merge.objects.create(organization=world.org1, kept=marcus, duplicate=world.thomas.exoneree, kept_before={})
    # Issue 19: a message of Marcus's conversation.
    Message.objects.create(
        exoneree=world.marcus.exoneree, organization=world.org1, author=world.exoneree1, text="Can we meet?"
    )


# --- what the database holds ------------------------------------------------------------------


def test_every_encrypted_column_holds_only_tokens_and_reads_back_as_typed(world):
    columns = encrypted_columns()
    assert len(columns) >= 15, [f"{m.__name__}.{f.name}" for m, f in columns]
    # The world has no status change, consent or emergency access yet; one row of every
    # model is needed below.
    ReferralEvent.objects.create(referral=world.marcus.referral, to_status=ReferralStatus.SENT, note="x")
    add_consent_and_emergency_access(world)
    written = {}
    n = 0
    for model in {model for model, _ in columns}:
        rows = list(model.objects.order_by("pk"))
        assert rows, f"the world has no {model.__name__}: add one so its columns are checked"
        for row in rows:
            for field in (field for m, field in columns if m is model):
                n += 1
                setattr(row, field.name, distinctive(field, n))
                written[(model, field.name, row.pk)] = getattr(row, field.name)
            row.save()

    for (model, name, pk), plaintext in written.items():
        stored = raw(model, name, pk)
        where = f"{model.__name__}.{name} of row {pk}"
        assert isinstance(stored, str) and stored.startswith(TOKEN), f"{where} is stored as {stored!r}"
        assert as_text(plaintext) not in stored, where
        assert getattr(model.objects.get(pk=pk), name) == plaintext, where
    assert len({model for model, _, _ in written}) >= 6


def test_empty_values_stay_empty_and_read_back_empty(db):
    person = ExonereeFactory(legal_name="Nobody Onfile")

    assert raw(Exoneree, "ssn", person.pk) == ""
    assert raw(Exoneree, "address", person.pk) == ""
    assert raw(Exoneree, "date_of_birth", person.pk) is None
    fresh = Exoneree.objects.get(pk=person.pk)
    assert (fresh.ssn, fresh.address, fresh.email, fresh.date_of_birth) == ("", "", "", None)


def test_the_same_value_encrypts_differently_every_time(world):
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    thomas.ssn = marcus.ssn
    thomas.save()

    first, second = raw(Exoneree, "ssn", marcus.pk), raw(Exoneree, "ssn", thomas.pk)

    assert first.startswith(TOKEN) and second.startswith(TOKEN)
    assert first != second
    assert crypto.encrypt("900123456", context="c") != crypto.encrypt("900123456", context="c")
    assert Exoneree.objects.get(pk=thomas.pk).ssn == Exoneree.objects.get(pk=marcus.pk).ssn == "900123456"


def test_every_encrypted_column_is_unbounded_text_whatever_the_fields_max_length():
    # A token is far longer than its plaintext: a varchar(11) SSN column would refuse it.
    text = models.TextField().db_type(connection)
    for model, field in encrypted_columns():
        assert field.db_type(connection) == text, f"{model.__name__}.{field.name}"


def test_a_date_handed_over_as_text_is_stored_as_that_date(db):
    person = ExonereeFactory(date_of_birth=None)

    Exoneree.objects.filter(pk=person.pk).update(date_of_birth="1970-05-06")  # as a fixture or a form may

    assert raw(Exoneree, "date_of_birth", person.pk).startswith(TOKEN)
    assert Exoneree.objects.get(pk=person.pk).date_of_birth == date(1970, 5, 6)


def test_only_a_value_in_the_token_format_is_taken_for_a_token():
    """The migration that encrypted the existing rows skips what already is a token."""
    assert crypto.is_token(crypto.encrypt_with(crypto.encryption_keys()[0], "900123456", context="c"))
    assert not crypto.is_token("900123456")
    assert not crypto.is_token("enc1")


# --- values that cannot be read ----------------------------------------------------------------


def wrong_key(settings, person):
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key()]
    return "ssn"


def retired_key(settings, person):
    """A value under a key no longer configured: written with a new key put first beside the
    one in use (a rotation's first step), which is then taken out again (the rotation undone)
    before the row is written again. (A new key alone would be refused at its first write once
    the database holds the canary of the key in use, as a test that commits leaves it.)"""
    in_use = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key(), *in_use]
    person.ssn = "900777888"
    person.save()
    settings.FIELD_ENCRYPTION_KEYS = in_use
    return "ssn"


def tampered(settings, person):
    set_raw(Exoneree, "ssn", person.pk, flip_one_character(raw(Exoneree, "ssn", person.pk)))
    return "ssn"


def plaintext_in_the_column(settings, person):
    set_raw(Exoneree, "ssn", person.pk, "900123456")
    return "ssn"


def token_from_another_column(settings, person):
    person.phone = "713-555-0199"
    person.save()
    set_raw(Exoneree, "address", person.pk, raw(Exoneree, "phone", person.pk))
    return "address"


@pytest.mark.parametrize(
    "spoil", [wrong_key, retired_key, tampered, plaintext_in_the_column, token_from_another_column]
)
def test_a_value_that_cannot_be_decrypted_is_an_error_naming_the_field(settings, world, spoil):
    marcus = world.marcus.exoneree
    name = spoil(settings, marcus)
    stored = raw(Exoneree, name, marcus.pk)
    # A missing key spoils every column of the row: a whole-row read names the first it meets.
    row_field = r"\w+" if spoil in (wrong_key, retired_key) else name

    for read, field in (
        (lambda: Exoneree.objects.filter(pk=marcus.pk).values_list(name, flat=True)[0], name),
        (lambda: Exoneree.objects.values(name).get(pk=marcus.pk), name),
        (lambda: Exoneree.objects.get(pk=marcus.pk), row_field),
        (marcus.refresh_from_db, row_field),
    ):
        with pytest.raises(DecryptionError, match=rf"^services\.Exoneree\.{field}: ") as error:
            read()
        message = str(error.value)
        assert stored not in message  # the stored value is never put in a log or an error page
        assert "900123456" not in message


@pytest.mark.parametrize("changed", ["enc2$", "$"], ids=["another version", "no version"])
def test_a_token_of_another_format_version_is_refused_even_if_it_would_decrypt(changed):
    token = crypto.encrypt_with(crypto.encryption_keys()[0], "900123456", context="c")

    with pytest.raises(DecryptionError, match="^c: the stored value is not an encrypted token"):
        crypto.decrypt(changed + token.removeprefix(TOKEN), context="c")


def test_plaintext_in_any_encrypted_column_is_an_error_naming_that_column(world):
    ReferralEvent.objects.create(referral=world.marcus.referral, to_status=ReferralStatus.SENT)
    add_consent_and_emergency_access(world)
    for model, field in encrypted_columns():
        pk = model.objects.values_list("pk", flat=True).order_by("pk").first()
        set_raw(model, field.name, pk, "written around the app")

        with pytest.raises(DecryptionError, match=rf"^services\.{model.__name__}\.{field.name}: "):
            model.objects.filter(pk=pk).values_list(field.name, flat=True).get()


def test_after_adding_a_new_key_old_values_read_and_new_writes_use_the_new_key(settings, world):
    old, new = settings.FIELD_ENCRYPTION_KEYS[0], crypto.generate_key()
    old_id = crypto.key_id(base64.urlsafe_b64decode(old))
    new_id = crypto.key_id(base64.urlsafe_b64decode(new))
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    thomas.ssn = "900999111"
    thomas.save()

    assert raw(Exoneree, "ssn", marcus.pk).startswith(f"enc1${old_id}$")
    assert Exoneree.objects.get(pk=marcus.pk).ssn == "900123456"
    assert CaseNote.objects.get(pk=world.marcus.staff_note.pk).text == "Staff only: Marcus is wary of phones"
    assert raw(Exoneree, "ssn", thomas.pk).startswith(f"enc1${new_id}$")
    assert Exoneree.objects.get(pk=thomas.pk).ssn == "900999111"
    # Once only the new key is left, what was re-written reads and what was not is an error.
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Exoneree.objects.values_list("ssn", flat=True).get(pk=thomas.pk) == "900999111"
    with pytest.raises(DecryptionError, match=old_id):
        Exoneree.objects.get(pk=marcus.pk)


# --- the database cannot search encrypted columns ----------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        {"ssn": "900123456"},
        {"ssn__icontains": "3456"},
        {"ssn__in": ["900123456"]},
        {"address__startswith": "12"},
        {"date_of_birth__gt": date(1960, 1, 1)},
        {"date_of_birth__year": 1970},
    ],
    ids=lambda lookup: next(iter(lookup)),
)
def test_comparing_an_encrypted_field_is_refused_with_a_clear_error(world, lookup):
    name = next(iter(lookup)).split("__")[0]

    with pytest.raises(FieldError, match=rf"services\.Exoneree\.{name} is encrypted.*blind index"):
        list(Exoneree.objects.filter(**lookup))


def test_comparing_through_a_relation_or_in_exclude_is_refused_too(world):
    with pytest.raises(FieldError, match="encrypted"):
        list(Need.objects.filter(exoneree__ssn="900123456"))
    with pytest.raises(FieldError, match="encrypted"):
        list(Exoneree.objects.exclude(ssn="900123456"))
    with pytest.raises(FieldError, match=r"services\.CaseNote\.text is encrypted"):
        list(CaseNote.objects.filter(text__contains="wary"))


def test_isnull_works_on_an_encrypted_field(world):
    unknown = ExonereeFactory(organization=world.org1, legal_name="Birth Date Unknown")

    assert list(Exoneree.objects.filter(date_of_birth__isnull=True)) == [unknown]
    assert Exoneree.objects.filter(date_of_birth__isnull=False).count() == 3


# --- blind indexes -----------------------------------------------------------------------------


def test_the_same_ssn_typed_two_ways_has_the_same_index(db):
    dashes = ExonereeFactory(ssn="900-12-3456")
    digits = ExonereeFactory(ssn="900123456")
    other = ExonereeFactory(ssn="900123457")

    assert dashes.ssn_index.startswith("bidx1$")
    assert dashes.ssn_index == digits.ssn_index
    assert other.ssn_index != digits.ssn_index
    stored = Exoneree.objects.values_list("ssn_index", flat=True).get(pk=digits.pk)
    assert stored == digits.ssn_index
    assert "900123456" not in stored
    # Keyed: not a plain hash anyone could compute for each of the 10^9 numbers.
    assert hashlib.sha256(b"900123456").hexdigest() not in stored
    assert hashlib.sha256(b"ssn\x00900123456").hexdigest() not in stored


def test_name_and_birth_date_match_across_case_accents_and_spaces(db):
    born = date(1968, 2, 29)
    accented = ExonereeFactory(legal_name="José  Álvarez", date_of_birth=born)
    plain = ExonereeFactory(legal_name="jose alvarez", date_of_birth=born)
    other_day = ExonereeFactory(legal_name="Jose Alvarez", date_of_birth=date(1968, 3, 1))
    other_name = ExonereeFactory(legal_name="Josefa Alvarez", date_of_birth=born)

    assert accented.name_dob_index.startswith("bidx1$")
    assert accented.name_dob_index == plain.name_dob_index
    assert other_day.name_dob_index != plain.name_dob_index
    assert other_name.name_dob_index != plain.name_dob_index


def test_what_is_indexed_is_the_normalized_value_stored_indexes_were_made_from():
    """Stored indexes were computed from exactly this form: another would match no row."""
    assert index_ssn(" 900-12 3456 ") == "900123456"
    assert normalize_name("  José  O'Neil-Smith ") == "jose oneilsmith"
    assert index_name_and_birth_date("José  O'Neil", date(1968, 2, 29)) == "jose oneil|1968-02-29"


def test_nothing_to_index_gives_an_empty_index_that_matches_nothing(db):
    no_ssn = ExonereeFactory(legal_name="Jose Alvarez", ssn="", date_of_birth=date(1968, 2, 29))
    no_birth_date = ExonereeFactory(legal_name="Jose Alvarez", ssn="900123456", date_of_birth=None)

    stored = dict(Exoneree.objects.values_list("pk", "ssn_index"))
    assert stored[no_ssn.pk] == ""
    assert stored[no_birth_date.pk].startswith("bidx1$")
    assert no_ssn.name_dob_index.startswith("bidx1$")
    assert no_birth_date.name_dob_index == ""
    assert Exoneree._meta.get_field("ssn_index").candidates("") == []
    assert Exoneree._meta.get_field("name_dob_index").candidates("Jose Alvarez", None) == []


def test_the_index_follows_the_ssn_and_depends_on_the_index_key(settings, db):
    person = ExonereeFactory(ssn="900123456")
    before = person.ssn_index

    person.ssn = "900654321"
    person.save()
    changed = Exoneree.objects.values_list("ssn_index", flat=True).get(pk=person.pk)
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]  # a new key, first
    person.save()
    rekeyed = Exoneree.objects.values_list("ssn_index", flat=True).get(pk=person.pk)

    assert changed != before
    assert rekeyed != changed
    assert rekeyed.startswith("bidx1$")


def test_an_index_is_the_keyed_hash_of_its_purpose_and_value(settings, db):
    """The stored indexes of every row depend on this exact form: changing it silently makes
    every duplicate check find nothing until a blind-index rotation."""
    key = base64.urlsafe_b64decode(settings.BLIND_INDEX_KEYS[0])
    digest = hmac.new(key, b"ssn\x00900123456", hashlib.sha256).hexdigest()

    assert crypto.blind_index("ssn", "900123456") == f"bidx1${crypto.key_id(key)}${digest}"
    assert crypto.blind_index("name_dob", "900123456") != crypto.blind_index("ssn", "900123456")


def test_a_blind_index_field_is_a_hidden_indexed_column_and_migrations_name_only_what_differs():
    # Built here, not taken from a model: the models' fields were built at import.
    field = BlindIndexField("SSN index", purpose="ssn", sources=["ssn"], normalize=index_ssn)

    assert (field.verbose_name, field.max_length, field.blank, field.editable, field.db_index) == (
        "SSN index",
        80,
        True,
        False,
        True,
    )
    name, path, args, kwargs = field.deconstruct()
    assert (path, args) == ("services.fields.BlindIndexField", [])
    assert kwargs == {"verbose_name": "SSN index", "purpose": "ssn", "sources": ["ssn"], "normalize": index_ssn}

    other = {"max_length": 90, "blank": False, "editable": True, "db_index": False}
    custom = BlindIndexField(purpose="p", sources=["a", "b"], normalize=index_name_and_birth_date, **other)
    _, _, args, kwargs = custom.deconstruct()
    assert kwargs == {"purpose": "p", "sources": ["a", "b"], "normalize": index_name_and_birth_date, **other}
    assert BlindIndexField(*args, **kwargs).deconstruct()[3] == kwargs


# --- the migration that encrypted the existing rows --------------------------------------------

PLAIN_PERSON = {
    "legal_name": "Migrated Person",
    "ssn": "900551212",
    "date_of_birth": date(1966, 12, 31),
    "address": "77 Old Road, Waco TX",
    "phone": "254-555-0142",
    "email": "migrated.person@example.org",
    "contact_notes": "Mornings only",
}
PLAIN_TEXTS = {
    "Need": {"description": "Needs a birth certificate", "own_words": "I want my papers back"},
    "Referral": {"note": "Referred by phone", "decline_reason": "No openings", "feedback": "Kind staff"},
    "ReferralEvent": {"note": "Sent by fax"},
    "FollowUp": {"details": "Bring the letter", "outcome": "Went well"},
    "CaseNote": {"text": "Met at the library"},
}


def insert_plaintext_rows(old_apps) -> dict[tuple[str, int, str], object]:
    """Rows as the app before encryption wrote them; returns (model, pk, field) -> value."""

    def model(name):
        return old_apps.get_model("services", name)

    user = old_apps.get_model("auth", "User").objects.create(username="migrating-caseworker")
    org = model("Organization").objects.create(name="Before Encryption")
    person = model("Exoneree").objects.create(organization=org, **PLAIN_PERSON)
    empty = model("Exoneree").objects.create(organization=org, legal_name="Nothing On File")
    need = model("Need").objects.create(exoneree=person, domain="housing", **PLAIN_TEXTS["Need"])
    provider = model("Provider").objects.create(organization=org, name="Old Provider")
    resource = model("Resource").objects.create(organization=org, provider=provider, name="Old Service")
    referral = model("Referral").objects.create(need=need, resource=resource, **PLAIN_TEXTS["Referral"])
    event = model("ReferralEvent").objects.create(referral=referral, to_status="sent", **PLAIN_TEXTS["ReferralEvent"])
    follow_up = model("FollowUp").objects.create(
        exoneree=person, title="Visit", due_at="2030-01-01T10:00Z", assigned_to=user, **PLAIN_TEXTS["FollowUp"]
    )
    note = model("CaseNote").objects.create(exoneree=person, author=user, **PLAIN_TEXTS["CaseNote"])

    values = {("Exoneree", person.pk, name): value for name, value in PLAIN_PERSON.items() if name != "legal_name"}
    values |= {("Exoneree", empty.pk, name): "" for name in ("ssn", "address", "phone", "email", "contact_notes")}
    values[("Exoneree", empty.pk, "date_of_birth")] = None
    for row in (need, referral, event, follow_up, note):
        values |= {(type(row).__name__, row.pk, name): value for name, value in PLAIN_TEXTS[type(row).__name__].items()}
    return values


def had_field(old_apps, model_name: str, name: str) -> bool:
    try:
        old_apps.get_model("services", model_name)._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):  # a model or field added after 0001
        return False
    return True


def index(name: str, *values) -> list[str]:
    return Exoneree._meta.get_field(name).candidates(*values)


def migrate(executor: MigrationExecutor, targets) -> None:
    executor.loader.build_graph()
    try:
        executor.migrate(targets)
    except Exception:
        # When a migration's deferred SQL (its CREATE INDEX statements) fails, Django's schema
        # editor never leaves its atomic block: roll that transaction back, so that the failure
        # is reported as itself and the next tests get a usable connection.
        while connection.atomic_blocks:
            connection.atomic_blocks[-1].__exit__(*sys.exc_info())
        raise


def delete_rows(old_apps) -> None:
    for name in ("CaseNote", "FollowUp", "ReferralEvent", "Referral", "Need", "Resource", "Provider", "Exoneree"):
        old_apps.get_model("services", name).objects.all().delete()


def assert_encrypted_and_readable(values) -> None:
    for (model_name, pk, name), value in values.items():
        model = apps.get_model("services", model_name)
        stored = raw(model, name, pk)
        if value in ("", None):
            assert stored == value, (model_name, name, stored)
        else:
            assert stored.startswith(TOKEN), (model_name, name, stored)
            assert as_text(value) not in stored
        assert getattr(model.objects.get(pk=pk), name) == value, (model_name, name)
    person = Exoneree.objects.get(legal_name=PLAIN_PERSON["legal_name"])
    assert person.date_of_birth == date(1966, 12, 31)
    # The indexes the app computes for the same person typed at intake.
    assert person.ssn_index.startswith("bidx1$")
    assert person.ssn_index in index("ssn_index", "900-55-1212")
    assert person.name_dob_index.startswith("bidx1$")
    assert person.name_dob_index in index("name_dob_index", "migrated  PERSON", date(1966, 12, 31))
    empty = Exoneree.objects.get(legal_name="Nothing On File")
    assert (empty.ssn_index, empty.name_dob_index) == ("", "")


def assert_plaintext(old_apps, values) -> None:
    for (model_name, pk, name), value in values.items():
        model = old_apps.get_model("services", model_name)
        stored = raw(model, name, pk)
        assert stored in (value, as_text(value)), (model_name, name, stored)  # a date column on PostgreSQL
        assert getattr(model.objects.get(pk=pk), name) == value, (model_name, name)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_reverses_without_loss():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # whatever comes after 0002 too
    at_latest = True
    try:
        migrate(executor, [FIRST])
        at_latest = False
        old_apps = executor.loader.project_state([FIRST]).apps
        values = insert_plaintext_rows(old_apps)
        covered = {(model_name, name) for model_name, _, name in values}
        existed = {(m.__name__, f.name) for m, f in encrypted_columns() if had_field(old_apps, m.__name__, f.name)}
        assert covered == existed, existed - covered  # every column the migration had to encrypt

        migrate(executor, latest)
        at_latest = True
        assert_encrypted_and_readable(values)

        migrate(executor, [FIRST])
        at_latest = False
        assert_plaintext(old_apps, values)

        migrate(executor, latest)
        at_latest = True
        assert_encrypted_and_readable(values)
    finally:
        if not at_latest:  # something failed at 0001: leave the schema as every other test expects
            delete_rows(old_apps)
            migrate(executor, latest)


# --- production settings -----------------------------------------------------------------------


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """Production mode with fresh keys of its own; `NAME=None` leaves NAME out."""
    own_keys = {
        "REENTRY_VAR_DIR": str(tmp_path),
        "FIELD_ENCRYPTION_KEYS": crypto.generate_key(),
        "BLIND_INDEX_KEYS": crypto.generate_key(),
    }
    return production_settings(**{**own_keys, **overrides})


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage_with_timeout(*args, env=env, timeout=60)


@pytest.mark.parametrize("missing", ["FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEYS"])
def test_production_refuses_to_start_without_keys(tmp_path, missing):
    result = manage("check", env=production_env(tmp_path, **{missing: None}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} (or {missing}_FILE) must be set" in result.stderr


def test_production_reads_the_keys_from_files_newest_first(tmp_path):
    new, old, index_key = crypto.generate_key(), crypto.generate_key(), crypto.generate_key()
    (tmp_path / "field.keys").write_text(f"{new},{old}\n")
    (tmp_path / "index.key").write_text(f"{index_key}\n")
    env = production_env(
        tmp_path,
        FIELD_ENCRYPTION_KEYS=None,
        BLIND_INDEX_KEYS=None,
        FIELD_ENCRYPTION_KEYS_FILE=str(tmp_path / "field.keys"),
        BLIND_INDEX_KEYS_FILE=str(tmp_path / "index.key"),
    )
    show = (
        "from django.core.management import call_command; from services.lib import crypto; "
        "call_command('check', deploy=True, fail_level='WARNING'); "
        "print(*(k.id for k in crypto.encryption_keys()), crypto.index_keys()[0].id, "
        "crypto.encrypt('x', context='c').startswith(crypto.token_prefix()))"
    )

    result = manage("shell", "-c", show, env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    ids = [crypto.key_id(base64.urlsafe_b64decode(key)) for key in (new, old, index_key)]
    assert result.stdout.splitlines()[-1].split() == [*ids, "True"]


def test_production_refuses_to_start_with_a_malformed_key(tmp_path):
    # A server runs no system checks, so the keys are parsed at start-up, and the deploy
    # check says why it cannot start.
    result = manage("check", "--deploy", env=production_env(tmp_path, FIELD_ENCRYPTION_KEYS="not-a-key"))

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ImproperlyConfigured" in output
    assert "FIELD_ENCRYPTION_KEYS: key 1 is not a base64url-encoded 32-byte key" in output
    assert "not-a-key" not in output  # a key is never printed, even a bad one


SHORT_KEY = base64.urlsafe_b64encode(b"sixteen bytes!!!").decode()


@pytest.mark.parametrize(
    ("field_keys", "index_keys", "check_id", "says"),
    [
        ([SHORT_KEY], None, "reentry.E001", "FIELD_ENCRYPTION_KEYS: key 1 is not"),
        ([None, "%%%"], None, "reentry.E001", "FIELD_ENCRYPTION_KEYS: key 2 is not"),
        ([None, None], None, "reentry.E001", "FIELD_ENCRYPTION_KEYS lists the same key twice"),
        ([], None, "reentry.E001", "FIELD_ENCRYPTION_KEYS is empty"),
        (None, ["short"], "reentry.E002", "BLIND_INDEX_KEYS: key 1 is not"),
        (None, "same", "reentry.E003", "A key is in both FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEYS"),
    ],
    ids=["too short", "second key bad", "same key twice", "none", "bad index key", "shared with the index"],
)
def test_deploy_check_names_the_unusable_key(settings, field_keys, index_keys, check_id, says):
    """The same check in-process (None in a list: the test key); the subprocess above shows the exit."""
    test_key = settings.FIELD_ENCRYPTION_KEYS[0]
    if field_keys is not None:
        settings.FIELD_ENCRYPTION_KEYS = [test_key if key is None else key for key in field_keys]
    if index_keys == "same":
        settings.BLIND_INDEX_KEYS = [test_key]
    elif index_keys is not None:
        settings.BLIND_INDEX_KEYS = index_keys

    with pytest.raises(SystemCheckError) as error:
        call_command("check", deploy=True)

    assert check_id in str(error.value)
    assert says in str(error.value)
