"""Documents: sealed at rest (envelope encryption), safe uploads, downloads through the gate and
logged, history kept, key rotation without rewriting files, the checklist and the expiry
reminder."""

from __future__ import annotations

import importlib
import io
import os
import re
import tracemalloc
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from PIL import ExifTags, Image

from services import audit, legal_rules, reminders
from services.actions import documents, people
from services.choices import NeedDomain, ReminderKind, ReminderStatus
from services.forms import documents as forms
from services.lib import crypto, file_crypto, uploads, vault
from services.models.audit import AuditEvent
from services.models.documents import Document, DocumentKind
from services.models.needs import Need
from services.models.notifications import Notification, Reminder
from services.models.people import Exoneree
from services.selectors import documents as selectors
from services.selectors.audit_display import log_rows
from services.selectors.audit_trail import record_openers
from tests import sample_files
from tests.factories import NeedFactory

NEW_KEY = crypto.generate_key()


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def add_document(world, content: bytes, kind: str = DocumentKind.BIRTH_CERTIFICATE, **fields) -> Document:
    """A document of Marcus, uploaded by his caseworker through the action."""
    document = Document(kind=kind, **fields)
    return documents.document_upload(
        by=world.caseworker1, exoneree=world.marcus.exoneree, document=document, content=uploads.clean(content)
    )


def plaintext_of(document: Document, *, by=None) -> bytes:
    _, chunks = documents.document_download(by=by, document_id=document.pk)
    return b"".join(chunks)


def stored_files(location: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in location.rglob("*") if path.is_file()}


def assert_no_plaintext_in(stored: bytes, plaintext: bytes) -> None:
    """No 32-byte run of the plaintext appears in the stored bytes (any 64-byte run would
    contain one of these aligned windows)."""
    for start in range(0, max(1, len(plaintext) - 31), 32):
        assert plaintext[start : start + 32] not in stored


# --- the cipher ---------------------------------------------------------------------------------


def seal(plaintext: bytes, key: bytes, context: str = "ctx", chunk_size: int = 64) -> bytes:
    sink = io.BytesIO()
    file_crypto.encrypt_stream(io.BytesIO(plaintext), sink, key=key, context=context, chunk_size=chunk_size)
    return sink.getvalue()


def unseal(sealed: bytes, key: bytes, context: str = "ctx") -> bytes:
    return b"".join(file_crypto.decrypt_stream(io.BytesIO(sealed), key=key, context=context, name="Document 7"))


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 640])
def test_sealed_file_round_trips_over_chunk_boundaries(size):
    key = file_crypto.new_data_key()
    plaintext = os.urandom(size)

    assert unseal(seal(plaintext, key), key) == plaintext


def cut_last_chunk(sealed: bytes) -> bytes:
    return sealed[: -(16 + 4)]  # 64-byte chunks: 200 bytes end in a 8-byte chunk (+16 tag)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda sealed: sealed[:40] + bytes([sealed[40] ^ 1]) + sealed[41:], id="flipped-bit"),
        pytest.param(lambda sealed: sealed[: 10 + 80], id="cut-after-a-chunk"),
        pytest.param(lambda sealed: sealed[:10] + sealed[90:170] + sealed[10:90] + sealed[170:], id="chunks-swapped"),
        pytest.param(lambda sealed: b"XXXXX" + sealed[5:], id="header"),
    ],
)
def test_altered_file_raises_naming_the_document_and_gives_nothing_unchecked(spoil):
    key = file_crypto.new_data_key()
    sealed = seal(os.urandom(200), key)

    with pytest.raises(file_crypto.FileDecryptionError, match="Document 7"):
        unseal(spoil(sealed), key)


def test_wrong_data_key_or_other_document_does_not_decrypt():
    key = file_crypto.new_data_key()
    sealed = seal(b"birth certificate" * 10, key)

    with pytest.raises(file_crypto.FileDecryptionError, match="Document 7"):
        unseal(sealed, file_crypto.new_data_key())
    with pytest.raises(file_crypto.FileDecryptionError):
        unseal(sealed, key, context="another document")


# --- uploads: what is stored --------------------------------------------------------------------


def test_no_stored_byte_run_equals_the_plaintext(world, _documents_storage):
    pdf = sample_files.pdf() * 50
    add_document(world, pdf, DocumentKind.COURT_ORDER)
    photo = uploads.clean(sample_files.photo((400, 300))).content
    add_document(world, sample_files.photo((400, 300)))

    files = stored_files(_documents_storage)

    assert len(files) == 2
    for stored in files.values():
        assert_no_plaintext_in(stored, pdf)
        assert_no_plaintext_in(stored, photo)


def test_stored_photo_has_no_gps_or_exif_left(world):
    original = sample_files.photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    document = add_document(world, original, DocumentKind.STATE_ID)

    kept = plaintext_of(document)

    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG"
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" not in kept and b"PhoneMaker" not in kept


def test_heic_from_a_phone_is_kept_as_jpeg(world):
    document = add_document(world, sample_files.heic(), DocumentKind.STATE_ID)

    assert document.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(plaintext_of(document))).format == "JPEG"


def test_png_stays_png_without_its_text_chunks():
    image = Image.new("RGB", (20, 20))
    out = io.BytesIO()
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "40.4,-74.0")
    image.save(out, "PNG", pnginfo=info)

    cleaned = uploads.clean(out.getvalue())

    assert cleaned.content_type == "image/png" and b"Location" not in cleaned.content


REFUSED = [
    pytest.param(b"GIF89a" + b"\x00" * 40, "not accepted", id="wrong-type"),
    pytest.param(b"<html><script>alert(1)</script></html>", "ends in .jpg but is not a photo", id="html-named-jpg"),
    pytest.param(b"", "empty", id="empty"),
    pytest.param(sample_files.pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "script", id="pdf-js"),
    pytest.param(sample_files.pdf(b"/OpenAction << /S /J#61vaScript /J#53 (x) >>"), "script", id="pdf-js-escaped"),
    pytest.param(sample_files.pdf_with_hidden_script(), "script", id="pdf-js-compressed"),
    pytest.param(sample_files.jpeg_with_pdf_inside(), "another kind of file", id="polyglot-jpeg-pdf"),
    pytest.param(sample_files.pdf_with_zip_appended(), "another kind of file", id="polyglot-pdf-zip"),
]


TEXT = b"Just some text, saved with another name."


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (TEXT, "Birth certificate.PDF", "This file ends in .pdf but is not a PDF inside. It may be damaged"),
        (TEXT, "IMG_0001.heic", "This file ends in .heic but is not a photo inside. It may be damaged"),
        (TEXT, "notes.txt", "This kind of file is not accepted."),
        (TEXT, "no ending", "This kind of file is not accepted."),
        (b"GIF89a" + b"\x00" * 40, "old.jpg", "This kind of file is not accepted."),  # a kind, renamed
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_called_damaged_not_a_kind_refused(content, name, message):
    """A PDF that is not one inside was told "This kind of file is not accepted … or a PDF"."""
    with pytest.raises(uploads.Refused) as refused:
        uploads.clean(content, name=name)

    assert refused.value.message.startswith(message)


@pytest.mark.parametrize(("content", "message"), REFUSED)
def test_refused_file_gets_a_message_beside_the_field_and_nothing_is_saved(
    login, world, content, message, _documents_storage
):
    client = login("caseworker1")

    response = client.post(
        reverse("document_upload", args=[world.marcus.exoneree.pk]),
        {"kind": "birth_certificate", "shown_on_plan": "on", "file": sample_files.upload(content)},
    )

    assert response.status_code == 400
    assert message in response.context["form"].errors["file"][0]
    assert b'id="id_file_error"' in response.content
    assert not Document.objects.exists()
    assert stored_files(_documents_storage) == {}


@pytest.mark.parametrize(
    ("dates", "mistake"),
    [
        ({"issued_on": "2026-11-18", "expires_on": "2026-01-01"}, "expires_on"),  # before it was issued
        ({"issued_on": "2026-02-30"}, "issued_on"),  # no such day
        ({"expires_on": "1066-10-14"}, "expires_on"),  # no paper's year
    ],
)
def test_a_page_sent_back_only_for_a_date_asks_for_the_file_again_beside_it(login, world, dates, mistake):
    """Browsers never fill a file input again: without a word beside it, the next Save
    answered "Choose a file." for a file the person had chosen. Nothing of it is kept."""
    response = login("caseworker1").post(
        reverse("document_upload", args=[world.marcus.exoneree.pk]),
        {"kind": "court_order", **dates, "file": sample_files.upload(sample_files.pdf())},
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"file", mistake}
    assert errors["file"] == ["Please choose the file again. It was not kept while you fix the other mistake."]
    beside = re.search(r'<div id="id_file_error"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    assert beside and "Please choose the file again." in beside.group(1)
    assert not Document.objects.exists()


def test_a_file_refused_for_itself_is_not_also_asked_for_again(login, world):
    response = login("caseworker1").post(
        reverse("document_upload", args=[world.marcus.exoneree.pk]),
        {"kind": "court_order", "issued_on": "2026-02-30", "file": sample_files.upload(b"")},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is empty. Choose the file again."]


def test_oversize_file_is_refused_before_it_is_read(login, world, settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    client = login("caseworker1")

    response = client.post(
        reverse("document_upload", args=[world.marcus.exoneree.pk]),
        {"kind": "birth_certificate", "file": sample_files.upload(sample_files.photo((300, 300)))},
    )

    assert response.status_code == 400
    assert "too large" in response.context["form"].errors["file"][0]
    assert not Document.objects.exists()


def test_the_limit_is_said_as_people_say_it(login, world, settings):
    """The message read "The limit is 20.0 MB"."""
    settings.DOCUMENT_MAX_BYTES = 2 * 1024 * 1024
    client = login("caseworker1")

    response = client.post(
        reverse("document_upload", args=[world.marcus.exoneree.pk]),
        {"kind": "birth_certificate", "file": sample_files.upload(b"%PDF-1.4" + b"0" * 2 * 1024 * 1024)},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["This file is too large. The limit is 2\xa0MB."]


@pytest.mark.parametrize(
    ("language", "size", "said"),
    [
        ("en", 20 * 1024 * 1024, "20\xa0MB"),
        ("en", 20 * 1024 * 1024 + 512 * 1024, "20.5\xa0MB"),
        ("en", 1024 * 1024 * 1024, "1\xa0GB"),
        ("en", 1000, "1000\xa0bytes"),
        ("es", 20 * 1024 * 1024, "20\xa0MB"),
        ("es", 20 * 1024 * 1024 + 512 * 1024, "20,5\xa0MB"),
    ],
)
def test_a_whole_size_is_said_without_its_decimal(language, size, said):
    with translation.override(language):
        assert forms.whole_file_size(size) == said


def test_a_failure_after_sealing_leaves_no_file_behind(world, monkeypatch, _documents_storage):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(audit, "record_change", fail)

    with pytest.raises(RuntimeError):
        add_document(world, sample_files.pdf())

    assert not Document.objects.exists()
    assert stored_files(_documents_storage) == {}


def test_phone_upload_by_the_person_is_on_their_plan(login, world):
    client = login("exoneree1")

    response = client.post(
        reverse("my_document_upload"),
        {"kind": "state_id", "title": "", "file": sample_files.upload(sample_files.photo(), "IMG_0001.HEIC")},
    )

    assert response.status_code == 302 and response.url == "/my-plan/?open=documents#documents"  # the papers open
    document = Document.objects.get()
    assert document.uploaded_by == world.exoneree1 and document.shown_on_plan
    page = client.get(reverse("my_plan"))
    assert reverse("my_document_download", args=[document.pk]).encode() in page.content
    assert b'capture="environment"' in client.get(reverse("my_document_upload")).content
    told = Notification.objects.get(user=world.caseworker1)
    assert told.text == "Marcus Whitfield sent a paper: State ID or driver's license"
    assert told.url.endswith("#documents")


@pytest.mark.parametrize(("language", "words"), [("en", "Choose what paper it is."), ("es", "Elija qué papel es.")])
def test_a_paper_sent_without_saying_what_it_is_is_asked_in_plain_words(login, world, language, words):
    """The person was told "This field is required." ("Este campo es requerido.") beside "What
    paper is it?"."""
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})

    response = client.post(
        reverse("my_document_upload"),
        {"kind": "", "title": "", "file": sample_files.upload(sample_files.photo(), "IMG_0003.HEIC")},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["kind"] == [words]
    assert not Document.objects.exists()


# File formats a person may not know by name (staff read them: the REFUSED table above).
FORMAT_NAMES = re.compile(r"JPEG|PNG|HEIC|PDF|\.pdf|\.heic|\.jpg|resolution|resolución", re.IGNORECASE)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("content", "name"),
    [
        pytest.param(b"GIF89a" + b"\x00" * 40, "old.gif", id="wrong-type"),
        pytest.param(TEXT, "IMG_0001.heic", id="named-photo"),
        pytest.param(TEXT, "Birth certificate.PDF", id="named-pdf"),
        pytest.param(sample_files.pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "scan.pdf", id="pdf-js"),
        pytest.param(sample_files.jpeg_with_pdf_inside(), "IMG_0004.jpg", id="polyglot-jpeg-pdf"),
        pytest.param(sample_files.pdf_with_zip_appended(), "scan.pdf", id="polyglot-pdf-zip"),
        pytest.param(sample_files.pdf()[:-10], "scan.pdf", id="pdf-cut-short"),
    ],
)
def test_a_file_refused_from_the_persons_plan_is_told_without_file_format_names(login, world, language, content, name):
    """The person read "Send a photo (JPEG, PNG or HEIC) or a PDF." and "This PDF contains a
    script or an action": a photo or a scan, in their words; staff keep the precise ones."""
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})

    response = client.post(
        reverse("my_document_upload"), {"kind": "state_id", "title": "", "file": sample_files.upload(content, name)}
    )

    assert response.status_code == 400
    (told,) = response.context["form"].errors["file"]
    assert told and not FORMAT_NAMES.search(told), told
    assert not Document.objects.exists()


def test_the_persons_upload_page_names_no_file_format(login, world):
    page = unescape(login("exoneree1").get(reverse("my_document_upload")).content.decode())

    help_text = re.search(r'<p class="help" id="id_file_helptext">(.*?)</p>', page, re.S).group(1)
    assert (
        help_text
        == "Take a photo of the paper, or choose a scan of it. We keep the photo without the place where it was taken."
    )


def test_a_paper_sent_from_the_spanish_pages_is_told_to_staff_in_their_language(login, world):
    """The notice was written in the sender's language: "sent a paper: Acta de nacimiento"."""
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": "es"})

    client.post(
        reverse("my_document_upload"),
        {"kind": "birth_certificate", "title": "", "file": sample_files.upload(sample_files.photo(), "IMG_0002.HEIC")},
    )

    assert Notification.objects.get(user=world.caseworker1).text == "Marcus Whitfield sent a paper: Birth certificate"


# --- downloads ----------------------------------------------------------------------------------


def test_download_is_streamed_attachment_no_store_nosniff_and_one_log_entry(login, world):
    content = sample_files.pdf()
    document = add_document(world, content, DocumentKind.COURT_ORDER)
    client = login("caseworker1")
    entries = AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_DOWNLOADED)

    response = client.get(reverse("document_download", args=[document.pk]))

    assert isinstance(response, StreamingHttpResponse)
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert entries.count() == 1
    assert entries.get().exoneree_id == world.marcus.exoneree.pk
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED).count() == 0

    client.get(reverse("document_download", args=[document.pk]))
    assert entries.count() == 2
    caseworker = next(row for row in record_openers(world.marcus.exoneree) if row["name"] == "Casey Onewell")
    assert caseworker["times"] == 2


def test_the_download_is_named_by_the_local_day_of_its_upload(world, settings):
    """A paper sent at 9 p.m. in Chicago was named by the next day ("court-order-2026-12-07.pdf"
    for a paper sent on December 6): the day in UTC."""
    settings.TIME_ZONE = "America/Chicago"
    evening = datetime(2026, 12, 6, 21, 0, tzinfo=ZoneInfo("America/Chicago"))  # 03:00 UTC on the 7th
    with time_machine.travel(evening, tick=False):
        document = add_document(world, sample_files.pdf(), DocumentKind.COURT_ORDER)

    assert Document.objects.get(pk=document.pk).download_name == "court-order-2026-12-06.pdf"


@pytest.mark.parametrize("persona", ["caseworker2", "caseworker3", "director2", "exoneree2"])
def test_others_get_404_and_nothing_is_logged(login, world, persona):
    document = add_document(world, sample_files.pdf(), shown_on_plan=True)
    client = login(persona)
    name = "my_document_download" if persona.startswith("exoneree") else "document_download"

    response = client.get(reverse(name, args=[document.pk]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_DOWNLOADED).exists()


def test_person_cannot_download_a_paper_not_shown_on_their_plan(login, world):
    document = add_document(world, sample_files.pdf(), shown_on_plan=False)

    assert login("exoneree1").get(reverse("my_document_download", args=[document.pk])).status_code == 404


def test_download_memory_stays_flat_whatever_the_size(world):
    sizes = {}
    for megabytes in (1, 8):
        content = sample_files.pdf_with_stream(os.urandom(megabytes * 1024 * 1024))
        document = add_document(world, content, DocumentKind.COURT_ORDER)
        tracemalloc.start()
        _, chunks = documents.document_download(by=world.caseworker1, document_id=document.pk)
        total = sum(len(chunk) for chunk in chunks)
        sizes[megabytes] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert total == len(content)
    assert sizes[8] < 1024 * 1024  # well under the file: a few chunks
    assert sizes[8] < 2 * sizes[1] + 256 * 1024


def test_wrong_key_raises_naming_the_document_and_serves_nothing(login, world, settings):
    document = add_document(world, sample_files.pdf())
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # not the key the data key was wrapped with

    with pytest.raises(documents.DocumentUnreadable, match=f"Document {document.pk}"):
        documents.document_download(by=world.caseworker1, document_id=document.pk)


def test_tampered_file_raises_naming_the_document_and_the_page_says_so(login, world, _documents_storage):
    document = add_document(world, sample_files.pdf())
    path = next(iter(Path(p) for p in stored_files(_documents_storage)))
    sealed = bytearray(path.read_bytes())
    sealed[-5] ^= 0x01
    path.write_bytes(bytes(sealed))

    with pytest.raises(documents.DocumentUnreadable, match=f"Document {document.pk}"):
        documents.document_download(by=world.caseworker1, document_id=document.pk)
    response = login("caseworker1").get(reverse("document_download", args=[document.pk]))
    assert response.status_code == 500
    assert b"cannot be opened" in response.content
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_DOWNLOADED).exists()


# --- history ------------------------------------------------------------------------------------


def test_replacing_keeps_the_old_version_and_deleting_is_recorded(login, world, _documents_storage):
    old = add_document(world, sample_files.pdf(), DocumentKind.STATE_ID)
    client = login("caseworker1")

    response = client.post(
        reverse("document_replace", args=[old.pk]),
        {"kind": "state_id", "shown_on_plan": "on", "file": sample_files.upload(sample_files.photo())},
    )

    assert response.status_code == 302
    new = Document.objects.current().get()
    assert new.replaces_id == old.pk
    [shown] = selectors.documents_page(world.marcus.exoneree)["documents"]
    assert shown == new and shown.earlier == [old]
    page = client.get(world.marcus.exoneree.get_absolute_url())
    assert reverse("document_download", args=[old.pk]).encode() in page.content
    assert plaintext_of(old) == sample_files.pdf()  # the old version still reads

    client.post(reverse("document_delete", args=[new.pk]))

    new.refresh_from_db()
    assert new.deleted_at is not None and new.deleted_by == world.caseworker1
    assert not Document.objects.current().exists()
    assert len(stored_files(_documents_storage)) == 2  # the files stay until a purge policy exists
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED, target=f"Document {new.pk}").exists()
    assert client.get(reverse("document_download", args=[new.pk])).status_code == 404


def test_delete_in_the_table_asks_first_and_only_the_confirmation_deletes(login, world):
    document = add_document(world, sample_files.pdf(), DocumentKind.STATE_ID, title="Illinois ID")
    client = login("caseworker1")
    delete = reverse("document_delete", args=[document.pk])

    page = client.get(world.marcus.exoneree.get_absolute_url()).content.decode()
    assert f'href="{delete}"' in page  # a link to the question, not a form that deletes
    assert f'action="{delete}"' not in page

    asked = client.get(delete)
    assert asked.status_code == 200
    assert "Delete State ID or driver&#x27;s license (Illinois ID)?" in asked.content.decode()
    assert f'href="{world.marcus.exoneree.get_absolute_url()}#documents"' in asked.content.decode()
    document.refresh_from_db()
    assert document.deleted_at is None

    response = client.post(delete)
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.deleted_at is not None


# --- key rotation -------------------------------------------------------------------------------


def test_rotation_killed_half_way_then_rerun_reads_every_document_with_the_new_key_only(
    world, settings, monkeypatch, _documents_storage
):
    contents = [sample_files.pdf(b"/Title (%d)" % number) for number in range(5)]
    added = [add_document(world, content) for content in contents]
    files_before = stored_files(_documents_storage)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    real_encrypt = crypto.encrypt
    new_prefix = crypto.token_prefix()
    data_keys = 0

    def encrypt_then_stop(plaintext: str, *, context: str) -> str:
        nonlocal data_keys
        if context == "services.Document.data_key":
            data_keys += 1
            if data_keys == 3:  # killed in the second batch of the documents' keys
                raise KeyboardInterrupt
        return real_encrypt(plaintext, context=context)

    monkeypatch.setattr(crypto, "encrypt", encrypt_then_stop)
    with pytest.raises(KeyboardInterrupt):
        call_command("rotate_encryption_keys", batch_size=2, stdout=open(os.devnull, "w"))  # noqa: SIM115
    monkeypatch.setattr(crypto, "encrypt", real_encrypt)
    wrapped = Document.objects.order_by("pk").values_list("pk", flat=True)
    moved = [pk for pk in wrapped if raw_data_key(pk).startswith(new_prefix)]
    assert len(moved) == 2  # the first batch committed, the interrupted one left nothing behind
    assert [plaintext_of(document) for document in added] == contents  # mid-way, both keys read all
    call_command("rotate_encryption_keys", batch_size=2, stdout=open(os.devnull, "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key retired
    assert [plaintext_of(document) for document in added] == contents
    assert stored_files(_documents_storage) == files_before  # no file was rewritten


def raw_data_key(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data_key FROM services_document WHERE id = %s", [pk])
        return cursor.fetchone()[0]


# --- the checklist ------------------------------------------------------------------------------


def test_checklist_data_file_is_valid_and_bad_files_are_refused():
    data = selectors.checklist_data()
    assert {item.kind for item in data.always} >= {"birth_certificate", "social_security_card", "state_id"}
    with pytest.raises(Exception, match="known kind"):
        selectors.parse_checklist({"always": [{"kind": "library_card", "domain": "legal", "need": "x"}]})
    with pytest.raises(Exception, match="two capital letters"):
        selectors.parse_checklist(
            {
                "always": [],
                "certificate_of_innocence": {
                    "kind": "court_order",
                    "domain": "legal",
                    "need": "x",
                    "states": {"il": {"name": "x"}},
                },
            }
        )


def test_checklist_shows_present_and_missing_and_the_state_certificate(world):
    marcus = world.marcus.exoneree
    add_document(world, sample_files.pdf(), DocumentKind.BIRTH_CERTIFICATE)
    add_document(world, sample_files.pdf(), DocumentKind.STATE_ID, expires_on=timezone.localdate() - timedelta(days=1))

    marcus.conviction_state = next(
        code for code, rule in legal_rules.rules().items() if len(code) == 2 and not rule.innocence_finding_required
    )
    rows = {row["kind"]: row for row in selectors.documents_page(marcus)["document_checklist"]}

    assert "certificate_of_innocence" not in rows  # a state whose law asks for no such paper
    assert rows["birth_certificate"]["present"]
    assert rows["state_id"]["expired"] and not rows["state_id"]["present"]
    assert not rows["social_security_card"]["present"]
    marcus.conviction_state = "IL"
    assert "certificate of innocence" in selectors.checklist_items(marcus)[-1].note.lower()


def test_the_plan_checklist_tells_nothing_of_papers_kept_off_the_plan(login, world):
    """Staff keep a paper off the plan to withhold it: the person's checklist neither says it
    is on file nor that it expired. They read "no copy here yet", true either way, and not
    "missing" (they may hold the paper); staff read "missing" and "expired"."""
    yesterday = timezone.localdate() - timedelta(days=1)
    hidden = add_document(world, sample_files.pdf(), DocumentKind.SOCIAL_SECURITY_CARD, shown_on_plan=False)
    add_document(world, sample_files.pdf(), DocumentKind.STATE_ID, shown_on_plan=False, expires_on=yesterday)

    page = unescape(login("exoneree1").get(reverse("my_plan")).content.decode())
    staff = unescape(login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode())

    def said(html: str, label: str) -> str:
        return html.split(f"<strong>{label}</strong>")[1].split("</li>")[0]

    for label in ("Social Security card", "State ID or driver's license", "Birth certificate"):
        assert "no copy here yet" in said(page, label), label
        assert not {"on file", "expired", "missing"} & set(said(page, label).split(": ")[-1].split()), label
    assert reverse("my_document_download", args=[hidden.pk]) not in page
    assert "on file" in said(staff, "Social Security card") and "expired" in said(staff, "State ID or driver's license")
    assert "missing" in said(staff, "Birth certificate")


def test_every_states_name_of_the_certificate_reads_in_spanish_with_its_english_name(world):
    """Staff read the name with its law; the person the name alone, in Spanish with the English
    name a court clerk knows."""
    marcus = world.marcus.exoneree
    for state, names in selectors.checklist_data().states.items():
        marcus.conviction_state = state
        with translation.override("es"):
            spanish = selectors.checklist_items(marcus, law=False)[-1].note
        with translation.override("en"):
            english = selectors.checklist_items(marcus, law=False)[-1].note
            staff = selectors.checklist_items(marcus)[-1].note

        assert names["law"] and staff == f"{names['name']} ({names['law']})", state
        assert english == names["name"] and spanish != english, f"{state} has no Spanish name"
        assert f"en inglés, {names['name']})" in spanish, state  # what to ask a clerk for
        assert names["law"] not in spanish + english, state


def test_the_person_reads_the_certificate_without_its_law_and_not_in_red(login, world):
    """The plan said "Certificate of innocence (735 ILCS 5/2-702): no copy here yet" in red (walk)."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(conviction_state="IL")

    page = unescape(login("exoneree1").get(reverse("my_plan")).content.decode())
    staff = unescape(login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode())

    assert "<strong>Certificate of innocence</strong>:" in page and "ILCS" not in page
    assert 'class="checklist-item missing"' not in page and 'class="checklist-item not-yet"' in page
    assert "<strong>Certificate of innocence (735 ILCS 5/2-702)</strong>" in staff
    assert 'class="checklist-item missing"' in staff


def test_where_the_rules_ask_for_the_certificate_the_person_reads_it_without_the_statute(world):
    marcus = world.marcus.exoneree
    marcus.conviction_state = "TX"

    [row] = [r for r in selectors.checklist(marcus, [], needs=[], law=False) if r["kind"] == "certificate_of_innocence"]

    assert (row["label"], row["note"]) == ("Certificate of innocence", "")  # its name, said once


@pytest.mark.parametrize(
    "names",
    [{"es": "Certificado"}, {"name": "Certificate", "fr": "Certificat"}, {"name": " "}, "Certificate"],
)
def test_a_states_certificate_without_its_name_or_in_an_unknown_language_is_refused(names):
    raw = {"always": [], "certificate_of_innocence": {"kind": "court_order", "domain": "legal", "need": "x"}}
    raw["certificate_of_innocence"]["states"] = {"IL": names}

    with pytest.raises(Exception, match="each with the paper's `name`"):
        selectors.parse_checklist(raw)


def test_the_certificate_is_asked_for_where_the_compensation_statute_requires_one(world):
    """Texas is not on the checklist's own list; its statute (the rules table) needs the finding."""
    marcus = world.marcus.exoneree
    marcus.conviction_state = "TX"
    rule = legal_rules.rule_for("TX")

    last = selectors.checklist_items(marcus)[-1]

    assert rule.innocence_finding_required
    assert (last.kind, last.note) == (
        "certificate_of_innocence",
        f"Certificate or finding of innocence ({rule.citation})",
    )


def test_the_checklist_says_the_certificates_name_once(world):
    marcus = world.marcus.exoneree
    marcus.conviction_state = "IL"

    rows = selectors.checklist(marcus, [], needs=[])
    [certificate] = [row for row in rows if row["kind"] == "certificate_of_innocence"]

    assert certificate["label"].startswith("Certificate of innocence (")
    assert certificate["note"] == ""  # not "Certificate of innocence — Certificate of innocence (…)"


def test_one_click_need_for_a_missing_paper_is_made_once(login, world):
    client = login("caseworker1")
    url = reverse("document_need", args=[world.marcus.exoneree.pk])

    first = client.post(url, {"kind": "social_security_card"})
    client.post(url, {"kind": "social_security_card"})

    need = Need.objects.get(exoneree=world.marcus.exoneree, domain=NeedDomain.IDENTIFICATION)
    assert first.url.endswith(f"#need-{need.pk}")
    rows = {row["kind"]: row for row in selectors.documents_page(world.marcus.exoneree)["document_checklist"]}
    assert rows["social_security_card"]["need_open"]
    refused = client.post(url, {"kind": "library_card"})
    assert refused.status_code == 400 and b"not on this person" in refused.content
    assert Need.objects.filter(exoneree=world.marcus.exoneree, domain=NeedDomain.IDENTIFICATION).count() == 1


def test_a_paper_whose_need_was_met_says_so_and_asks_for_the_copy(login, world):
    """The need for a Social Security card was met, yet the checklist said only "missing" and
    offered to create the same need again, as if nothing had happened."""
    client = login("caseworker1")
    client.post(reverse("document_need", args=[world.marcus.exoneree.pk]), {"kind": "social_security_card"})
    Need.objects.filter(exoneree=world.marcus.exoneree, domain=NeedDomain.IDENTIFICATION).update(
        status="met", closed_on=date(2026, 3, 4)
    )

    rows = {row["kind"]: row for row in selectors.documents_page(world.marcus.exoneree)["document_checklist"]}
    staff = unescape(client.get(reverse("exoneree_detail", args=[world.marcus.exoneree.pk])).content.decode())
    plan = login("exoneree1").get(reverse("my_plan")).content.decode()

    assert rows["social_security_card"]["need_met"] and not rows["social_security_card"]["need_open"]
    assert not rows["state_id"]["need_met"]
    assert "need met Mar 4" in staff and "need met" not in plan
    assert "Create a need: Social Security card" in staff  # lost again since: one click still makes a new one


def checklist_rows(exoneree) -> dict[str, dict]:
    return {row["kind"]: row for row in selectors.documents_page(exoneree)["document_checklist"]}


def test_the_one_click_need_is_still_found_after_staff_reword_it_for_the_person(login, world):
    """The need form asks staff to write a need to the person in plain words; the checklist knew
    its one-click need by those words, so a reworded one was "missing" again, and one click made
    a second need for the same card."""
    client = login("caseworker1")
    marcus = world.marcus.exoneree
    url = reverse("document_need", args=[marcus.pk])
    client.post(url, {"kind": "social_security_card"})
    need = Need.objects.get(exoneree=marcus, domain=NeedDomain.IDENTIFICATION)
    reworded = {"domain": "identification", "description": "Your new Social Security card", "priority": "high"}
    edited = client.post(reverse("need_edit", args=[need.pk]), {**reworded, "opened_on": need.opened_on.isoformat()})
    assert edited.status_code == 302, edited.content[:500]

    assert checklist_rows(marcus)["social_security_card"]["need_open"]
    client.post(url, {"kind": "social_security_card"})
    assert Need.objects.filter(exoneree=marcus, domain=NeedDomain.IDENTIFICATION).count() == 1

    Need.objects.filter(pk=need.pk).update(status="met", closed_on=date(2026, 3, 4))
    rows = checklist_rows(marcus)
    assert rows["social_security_card"]["need_met"] and rows["social_security_card"]["met_on"] == date(2026, 3, 4)
    assert not rows["birth_certificate"]["need_met"]


def test_the_access_log_names_the_paper_a_one_click_need_is_for(login, world):
    login("caseworker1").post(reverse("document_need", args=[world.marcus.exoneree.pk]), {"kind": "state_id"})
    created = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CREATED, target__startswith="Need ").last()

    [row] = log_rows([created])

    assert ("Key papers", "State ID or driver's license") in row.details


def test_a_need_for_two_papers_counts_for_both_whatever_its_words(world):
    marcus = world.marcus.exoneree
    NeedFactory(
        exoneree=marcus,
        domain=NeedDomain.IDENTIFICATION,
        description="Birth certificate and state ID.",
        papers=["birth_certificate", "state_id"],
        status="met",
        closed_on=date(2026, 2, 1),
    )

    rows = checklist_rows(marcus)

    assert [kind for kind, row in rows.items() if row["need_met"]] == ["birth_certificate", "state_id"]
    assert {rows["birth_certificate"]["met_on"], rows["state_id"]["met_on"]} == {date(2026, 2, 1)}


def test_a_one_click_need_made_before_needs_named_their_papers_is_known_by_its_words(login, world):
    marcus = world.marcus.exoneree
    words = selectors.checklist_item(marcus, "state_id").need
    NeedFactory(exoneree=marcus, domain=NeedDomain.IDENTIFICATION, description=words, papers=[])

    assert checklist_rows(marcus)["state_id"]["need_open"]
    login("caseworker1").post(reverse("document_need", args=[marcus.pk]), {"kind": "state_id"})
    assert Need.objects.filter(exoneree=marcus, domain=NeedDomain.IDENTIFICATION).count() == 1


# --- the expiry reminder ------------------------------------------------------------------------


def sweep() -> list[str]:
    return [reminders.reminder_send(reminder_id) for reminder_id in reminders.reminders_claim_due()]


def test_expiring_id_reminds_caseworker_and_person_60_days_before_exactly_once(world):
    marcus = world.marcus.exoneree
    marcus.appointment_reminders, marcus.email = True, "marcus@example.org"
    marcus.save()
    expires = timezone.localdate() + timedelta(days=100)
    document = add_document(world, sample_files.pdf(), DocumentKind.STATE_ID, expires_on=expires)
    rows = Reminder.objects.filter(document=document)
    assert {row.kind for row in rows} == {ReminderKind.DOCUMENT_EXPIRY, ReminderKind.DOCUMENT_EXPIRY_PERSON}

    with time_machine.travel(timezone.now() + timedelta(days=39)):
        sweep()
        assert [m for m in mail.outbox if "expire" in m.subject.lower()] == []
    with time_machine.travel(timezone.now() + timedelta(days=41)):
        sweep()
        sweep()  # a second sweep finds nothing left to send
    sent = [m for m in mail.outbox if "expire" in m.subject.lower()]
    assert sorted(m.to[0] for m in sent) == sorted(["marcus@example.org", world.caseworker1.email])
    assert "Marcus" not in "".join(m.body for m in sent)  # mailboxes are not ours: no name
    assert set(rows.values_list("status", flat=True)) == {ReminderStatus.SENT}


def test_deleting_the_id_cancels_its_reminder(world):
    document = add_document(
        world, sample_files.pdf(), DocumentKind.STATE_ID, expires_on=timezone.localdate() + timedelta(days=100)
    )

    documents.document_delete(by=world.caseworker1, document=document)

    assert set(Reminder.objects.filter(document=document).values_list("status", flat=True)) == {
        ReminderStatus.CANCELLED
    }
    assert vault.storage().exists(document.storage_name)


def test_an_upload_within_the_limit_never_touches_the_disk_in_plaintext(login, world, monkeypatch):
    """Django writes an upload over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) to a
    temporary file: a scan of a few MB must stay in memory until it is sealed."""
    seen = []
    real = forms.cleaned_upload
    monkeypatch.setattr(forms, "cleaned_upload", lambda upload: seen.append(type(upload)) or real(upload))
    scan = sample_files.pdf_with_stream(os.urandom(3 * 1024 * 1024))

    response = login("caseworker1").post(
        reverse("document_upload", args=[world.marcus.exoneree.pk]),
        {"kind": "court_order", "file": sample_files.upload(scan, "order.pdf", "application/pdf")},
    )

    assert response.status_code == 302
    assert seen == [InMemoryUploadedFile]


def test_a_new_caseworker_gets_the_expiry_reminder_and_the_old_one_does_not(world):
    expires = timezone.localdate() + timedelta(days=100)
    document = add_document(world, sample_files.pdf(), DocumentKind.PASSPORT, expires_on=expires)

    people.caseload_assign(by=world.director1, exoneree=world.marcus.exoneree, caseworkers=[world.caseworker2])

    rows = Reminder.objects.filter(document=document, kind=ReminderKind.DOCUMENT_EXPIRY)
    assert dict(rows.values_list("recipient_id", "status")) == {
        world.caseworker1.pk: ReminderStatus.CANCELLED,
        world.caseworker2.pk: ReminderStatus.PENDING,
    }


def test_a_one_click_need_for_a_license_made_before_needs_named_papers_is_still_found(world):
    """ "licence" became "license" (US spelling): a need made in one click before 0040 is known
    by its words, so the migration gives it its paper and the new words."""
    words = "Get a state ID or driver's licence."
    old = NeedFactory(exoneree=world.marcus.exoneree, domain=NeedDomain.IDENTIFICATION, description=words, papers=[])
    other = NeedFactory(exoneree=world.marcus.exoneree, domain=NeedDomain.IDENTIFICATION, description="A bus pass")

    migration = importlib.import_module("services.migrations.0044_license_us_spelling")
    migration.one_click_needs_in_us_spelling(apps, None)

    old.refresh_from_db()
    other.refresh_from_db()
    assert (old.description, old.papers) == ("Get a state ID or driver's license.", ["state_id"])
    assert (other.description, other.papers) == ("A bus pass", [])
    assert checklist_rows(world.marcus.exoneree)["state_id"]["need_open"]
