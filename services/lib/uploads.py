"""What an uploaded paper may be, judged from its bytes; images re-encoded without metadata.

Accepted: JPEG, PNG, HEIC (an iPhone's camera; converted to JPEG) and PDF. The type is
sniffed from the first bytes, never taken from the name or the browser's word. Images are
decoded and encoded again by Pillow: what is stored is only the pixels (turned upright as
the camera meant), so EXIF (the GPS position of the phone!), comments and anything hidden
after the image are gone. A PDF cannot be rebuilt that safely here, so one that can run
script or open other things (/JavaScript, /JS, /Launch, /OpenAction…, even spelled with
#xx escapes or inside compressed streams) is refused, and a file that is also another kind
of file (a polyglot: a PDF or a ZIP hidden in an image, HTML or a ZIP in a PDF) is refused.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"

# Pillow's guard against decompression bombs: a 20 MB file may claim billions of pixels.
MAX_PIXELS = 60_000_000
# How much a PDF's compressed streams may inflate to while they are looked through.
MAX_INFLATED = 64 * 1024 * 1024

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

# PDF names that run something or open something when the file is opened.
ACTIVE_PDF_NAMES = re.compile(rb"/(JavaScript|JS|Launch|OpenAction|AA|EmbeddedFile|RichMedia|XFA|SubmitForm)\b")
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
STREAM_DICTIONARY = 512  # how far before `stream` its dictionary is looked for
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
# Signs of a second format in the same bytes. Looked for only where no compressed data is
# (an image's headers and what follows its end; a PDF's tail), or a random run of
# compressed bytes would refuse about one large photo in fifty.
FOREIGN = re.compile(rb"%PDF-|PK\x03\x04|PK\x05\x06|<script|<html|<\?php|<svg", re.IGNORECASE)
ZIP_END = b"PK\x05\x06"  # a ZIP is read from its end: its last record sits in the last 64 KiB
HEAD_BYTES = 64 * 1024


class Refused(Exception):
    """The file is not accepted; `message` says why, in words for the person. `plain`: the
    same without the names of file formats (JPEG, PDF…), for the person's own upload from
    their plan (services.forms.documents.MyDocumentForm); staff read `message`."""

    def __init__(self, message: str, plain: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.plain = message if plain is None else plain


@dataclass(frozen=True)
class Cleaned:
    content: bytes
    content_type: str


def sniff(head: bytes) -> str | None:
    """The type the bytes say: 'jpeg', 'png', 'heif', 'pdf' or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heif"
    return None


# The endings of the files accepted, by what their name promises: a file that ends so and is
# not that inside is damaged (or renamed), not a kind refused.
NAMED_PDF = (".pdf",)
NAMED_PHOTO = (".jpg", ".jpeg", ".png", ".heic", ".heif")
# Kinds of file not accepted, whatever their name: GIF, TIFF, BMP, WebP, and ZIP (Word's and
# other office files are ZIP inside).
OTHER_KINDS = (b"GIF8", b"II*\x00", b"MM\x00*", b"BM", b"RIFF", b"PK\x03\x04")


def clean(data: bytes, name: str = "") -> Cleaned:
    """The file to store, or Refused with the reason. `name`: the file's name on the sender's
    device, for the reason only (what the file is, is read from its bytes)."""
    if not data:
        raise Refused(_("The file is empty. Choose the file again."))
    kind = sniff(data[:32])
    if kind is None:
        ending = name.lower()[name.rfind(".") :] if "." in name and not data.startswith(OTHER_KINDS) else ""
        if ending in NAMED_PDF:
            raise Refused(
                _(
                    "This file ends in .pdf but is not a PDF inside. It may be damaged: save or scan it "
                    "again, or send a photo of the paper."
                ),
                plain=_("This scan cannot be opened. It may be damaged: scan the paper again, or send a photo of it."),
            )
        if ending in NAMED_PHOTO:
            raise Refused(
                _("This file ends in %(ending)s but is not a photo inside. It may be damaged: take the photo again.")
                % {"ending": ending},
                plain=_("This photo cannot be opened. It may be damaged: take the photo again."),
            )
        raise Refused(
            _("This kind of file is not accepted. Send a photo (JPEG, PNG or HEIC) or a PDF."),
            plain=_("We cannot take this kind of file. Send a photo of the paper, or a scan of it."),
        )
    if kind == "pdf":
        return _clean_pdf(data)
    return _clean_image(data, kind)


def _clean_image(data: bytes, kind: str) -> Cleaned:
    if any(FOREIGN.search(region) for region in _outside_pixels(data, kind)):
        raise Refused(
            _("This file is a picture and another kind of file at once. Take the photo again."),
            plain=_("This photo cannot be used. Take the photo again."),
        )
    if kind == "heif":
        import pillow_heif  # only when a HEIC comes: it loads a large native library

        pillow_heif.register_heif_opener()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Refused(
                        _("This picture is too large. Take it again at a lower resolution."),
                        plain=_(
                            "This photo is too big. Take it again with a smaller photo size in your camera's settings."
                        ),
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise Refused(_("This picture could not be read. It may be damaged. Take it again.")) from exc
    out = io.BytesIO()
    if kind == "png":
        # A fresh image from the pixels alone: no text chunks, no EXIF, no ICC profile.
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
        upright.convert(mode).save(out, format="PNG", optimize=False)
        return Cleaned(out.getvalue(), PNG)
    upright.convert("RGB").save(out, format="JPEG", quality=88)
    return Cleaned(out.getvalue(), JPEG)


def _outside_pixels(data: bytes, kind: str) -> list[bytes]:
    """The parts of an image that are not compressed pixels: its headers and its trailer."""
    if kind == "jpeg":
        start = data.find(b"\xff\xda")  # start of scan: the compressed pixels follow
        end = data.rfind(b"\xff\xd9")  # end of image
        head = data[: start if start > 0 else HEAD_BYTES]
        return [head, data[end + 2 :] if end > start > 0 else b""]
    if kind == "png":
        regions, position = [], 8
        while position + 12 <= len(data):
            (length,) = struct.unpack(">I", data[position : position + 4])
            chunk_type = data[position + 4 : position + 8]
            if chunk_type != b"IDAT":
                regions.append(data[position + 8 : position + 8 + length])
            position += 12 + length
            if chunk_type == b"IEND":
                break
        return [*regions, data[position:]]
    return [data[:HEAD_BYTES]]


def _names(data: bytes) -> bytes:
    """PDF names with their #xx escapes undone: /J#61vaScript is /JavaScript."""
    return PDF_NAME_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), data)


def _object_streams(data: bytes) -> list[bytes]:
    """The inflated contents of the PDF's object streams (/ObjStm): where compressed PDFs
    keep their dictionaries, so where an action can hide. Other streams (pictures, fonts,
    page drawing) hold data, not dictionaries, and are not read: random bytes in a scan
    would otherwise spell /JS now and then."""
    out, budget = [], MAX_INFLATED
    for match in PDF_STREAM.finditer(data):
        if b"/ObjStm" not in data[max(0, match.start() - STREAM_DICTIONARY) : match.start()]:
            continue
        inflater = zlib.decompressobj()
        try:
            part = inflater.decompress(match.group(1), budget)
        except zlib.error:
            raise Refused(
                _("This PDF is damaged. Scan the paper again, or send a photo of it."),
                plain=_("This scan is damaged. Scan the paper again, or send a photo of it."),
            ) from None
        budget -= len(part)
        out.append(part)
        if budget <= 0 or inflater.unconsumed_tail:
            raise Refused(
                _("This PDF could not be checked. Scan the paper again, or send a photo of it."),
                plain=_("This scan could not be checked. Scan the paper again, or send a photo of it."),
            )
    return out


def _clean_pdf(data: bytes) -> Cleaned:
    if b"%%EOF" not in data[-1024:]:
        raise Refused(
            _("This PDF is damaged or cut short. Send it again."),
            plain=_("This scan is damaged or cut short. Send it again."),
        )
    tail = data[-(HEAD_BYTES + 22) :]
    if ZIP_END in tail or re.search(rb"<script|<html|<\?php", data[:HEAD_BYTES] + tail, re.IGNORECASE):
        raise Refused(
            _("This file is a PDF and another kind of file at once. Scan the paper again."),
            plain=_("This scan cannot be used. Scan the paper again, or send a photo of it."),
        )
    # The dictionaries: the file without its streams' contents, and its object streams inflated.
    outside_streams = PDF_STREAM.sub(b"stream\nendstream", data)
    for part in [outside_streams, *_object_streams(data)]:
        if ACTIVE_PDF_NAMES.search(_names(part)):
            raise Refused(
                _("This PDF contains a script or an action. Print it to PDF again, or send a photo of the paper."),
                plain=_("This scan has something inside it that we cannot take. Send a photo of the paper instead."),
            )
    return Cleaned(data, PDF)
