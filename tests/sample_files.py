"""Small files for the document tests, made on the spot: photos with a location in their EXIF,
a HEIC, plain and hostile PDFs, polyglots."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from services.actions.documents import document_upload
from services.lib.uploads import clean
from services.models.documents import Document, DocumentKind

GPS = (40.0, 26.0, 46.0)


def photo(size: tuple[int, int] = (64, 48), *, kind: str = "JPEG", gps: bool = True) -> bytes:
    """A photo as a phone takes it: with the phone's make and, by default, where it was."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    if gps:
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef] = "N"
        location[ExifTags.GPS.GPSLatitude] = GPS
    out = io.BytesIO()
    image.save(out, kind, exif=exif)
    return out.getvalue()


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 200, 30)).save(out, "HEIF")
    return out.getvalue()


def pdf(extra: bytes = b"") -> bytes:
    """A one-page PDF; `extra` goes into the catalog's dictionary."""
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R " + extra + b" >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_with_stream(data: bytes) -> bytes:
    """A PDF carrying `data` in a stream, as a scan carries its picture."""
    stream = b"4 0 obj << /Length %d /Filter /DCTDecode >>\nstream\n" % len(data) + data + b"\nendstream\nendobj\n"
    return pdf().replace(b"trailer", stream + b"trailer")


def pdf_with_hidden_script() -> bytes:
    """The script inside a deflated object stream, where a plain search does not see it."""
    hidden = zlib.compress(b"4 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj")
    stream = b"5 0 obj << /Type /ObjStm /Filter /FlateDecode >>\nstream\n" + hidden + b"\nendstream\nendobj\n"
    return pdf(b"/OpenAction 4 0 R").replace(b"%%EOF", b"") + stream + b"%%EOF\n"


def jpeg_with_pdf_inside() -> bytes:
    """A JPEG whose comment segment holds a PDF: a picture to one reader, a PDF to another."""
    image = photo(gps=False)
    document = pdf()
    segment = b"\xff\xfe" + (len(document) + 2).to_bytes(2, "big") + document
    return image[:2] + segment + image[2:]


def pdf_with_zip_appended() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("run.html", "<script>alert(1)</script>")
    return pdf() + archive.getvalue()


def document_for(exoneree: Any, by: Any, content: bytes | None = None, **fields: Any) -> Any:
    """A document of `exoneree` (a PDF unless told), uploaded through the action, on their plan."""
    fields.setdefault("kind", DocumentKind.BIRTH_CERTIFICATE)
    fields.setdefault("shown_on_plan", True)
    return document_upload(by=by, exoneree=exoneree, document=Document(**fields), content=clean(content or pdf()))


def upload(content: bytes, name: str = "scan.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
