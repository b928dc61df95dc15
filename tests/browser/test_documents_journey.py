"""Papers, in the browser: a caseworker drops a scan on the upload form (desktop, with its
progress bar) after a refused file is explained beside the field; the person sends a photo
of their ID from a phone and downloads it back without its location. Every page passes axe."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import ExifTags, Image
from playwright.sync_api import expect

from services.models.documents import Document
from services.models.people import Exoneree
from tests import sample_files
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    FILE_BUTTON_HEIGHTS,
    PHONE,
    Tab,
    authenticator,
    with_password,
)


def drop_file(page, selector: str, content: bytes, name: str, mime: str) -> None:
    """Drag a file from the desktop onto `selector`, as a browser delivers it (a drop event)."""
    transfer = page.evaluate_handle(
        """([bytes, name, mime]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
            return transfer;
        }""",
        [list(content), name, mime],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_caseworker_drops_a_scan_on_the_upload_form(world, tabs):
    device = authenticator(with_password(world.caseworker1))
    tab = tabs(DESKTOP)
    page = tab.page
    tab.sign_in("caseworker1", device=device)
    tab.goto(world.marcus.exoneree.get_absolute_url())
    papers = page.get_by_role("region", name="Documents")
    expect(papers).to_contain_text("Birth certificate")
    expect(papers).to_contain_text("missing")

    papers.get_by_role("link", name="+ Add a document").click()
    tab.check()
    page.get_by_label("Kind").select_option(label="Birth certificate")
    # A file that is not a paper: refused, and said so beside the field.
    page.locator("#id_file").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"GIF89a" + b"\0" * 64}]
    )
    page.get_by_role("button", name="Save the document").click()
    expect(page.locator("#id_file_error")).to_contain_text("not accepted")
    tab.check()
    assert not Document.objects.exists()

    # The scan, dropped from the desktop onto the field; the page goes up with a progress bar.
    page.get_by_label("Kind").select_option(label="Birth certificate")
    scan = sample_files.pdf_with_stream(bytes(range(256)) * 2000)
    drop_file(page, "[data-drop-zone]", scan, "birth-certificate.pdf", "application/pdf")
    page.get_by_role("button", name="Save the document").click()
    page.wait_for_url(f"**{world.marcus.exoneree.get_absolute_url()}#documents")
    tab.check()
    document = Document.objects.get()
    assert document.kind == "birth_certificate" and document.size == len(scan)
    papers = page.get_by_role("region", name="Documents")
    expect(papers.get_by_role("row", name="Birth certificate")).to_be_visible()
    expect(papers.locator(".checklist-item", has_text="Birth certificate")).to_contain_text("on file")
    tab.screenshot("documents-person-page.png")

    # A missing key paper becomes a need in one click.
    papers.get_by_role("button", name="Create a need: Social Security card").click()
    tab.check()
    expect(page.locator("main")).to_contain_text("Get a replacement Social Security card.")


def test_exoneree_sends_a_photo_of_their_id_from_a_phone(world, tmp_path: Path, tabs):
    with_password(world.exoneree1)
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    papers = page.get_by_role("region", name="Your papers")
    expect(papers).to_contain_text("State ID or driver's license")
    send = papers.get_by_role("link", name="Send us a paper (take a photo)")
    expect(send).to_be_hidden()  # folded to its heading: the plan stays short on a phone…
    papers.get_by_role("heading", name="Your papers").click()  # …and one tap opens it

    send.click()
    tab.check()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # "Choose File" is a target a thumb can take: 44 px tall, not the browser's 21 px.
    assert page.eval_on_selector_all("main input[type=file]", FILE_BUTTON_HEIGHTS) == [[44, 44]]
    camera = page.get_by_label("Photo or file")
    expect(camera).to_have_attribute("capture", "environment")
    page.get_by_label("What paper is it?").select_option(label="State ID or driver's license")
    camera.set_input_files(files=[{"name": "IMG_0042.JPG", "mimeType": "image/jpeg", "buffer": sample_files.photo()}])
    tab.screenshot("documents-phone-upload.png")
    page.get_by_role("button", name="Save the paper").click()
    page.wait_for_url("**/my-plan/?open=documents#documents")
    tab.check()

    papers = page.get_by_role("region", name="Your papers")
    link = papers.get_by_role("link", name="State ID or driver's license")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "id.jpg"
    download.value.save_as(saved)
    kept = Image.open(io.BytesIO(saved.read_bytes()))
    assert not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the phone's location is gone
    assert Document.objects.get().uploaded_by == world.exoneree1


# A phone whose pen points finely but cannot hover (Blink's primaryPointerType 4 is fine,
# primaryHoverType 1 is none): neither a finger's "coarse" nor a mouse.
PEN_PHONE = "--blink-settings=primaryPointerType=4,primaryHoverType=1"


@pytest.mark.parametrize(
    ("viewport", "touch", "blink", "said"),
    [(DESKTOP, False, "", True), (PHONE, True, "", False), (PHONE, False, PEN_PHONE, False), (PHONE, False, "", True)],
    ids=["desktop", "phone", "phone-with-a-pen", "narrow-desktop-window"],
)
def test_drop_the_file_here_only_where_a_mouse_can_drag_one(
    world, browser, live_server, tabs, viewport, touch: bool, blink: str, said: bool
):
    """A phone said "Or drop the file here.": nothing can be dragged onto it. Only a pointer
    that hovers and points finely (a mouse, a trackpad) can drag a file; a mouse in a narrow
    window is told it can."""
    with_password(world.exoneree1)
    pen = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, blink]) if blink else None
    tab = Tab(pen, live_server.url, viewport) if pen else tabs(viewport, touch=touch)
    try:
        page = tab.page
        tab.sign_in("exoneree1")
        tab.goto(reverse("my_document_upload"))
        tab.check()

        hint = page.get_by_text("Or drop the file here.")
        if said:
            expect(hint).to_be_visible()
        else:
            expect(hint).to_be_hidden()
    finally:
        if pen:
            pen.close()


@pytest.mark.parametrize(
    ("language", "none", "chosen"),
    [
        ("en", "No photo or file chosen yet.", "Chosen: IMG_0042.JPG"),
        ("es", "Todavía no eligió una foto ni un archivo.", "Elegido: IMG_0042.JPG"),
    ],
)
def test_the_file_chosen_is_said_whole_in_the_pages_language_on_a_small_phone(world, tabs, language, none, chosen):
    """At 320 px the browser's own "No file chosen" beside "Choose File" was cut to "No …sen", and
    it is in the phone's language, not the page's: English on a Spanish page (a walk of the
    person's pages). The page says it now, below the button, whole and in the person's language."""
    with_password(world.exoneree1)
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    tab = tabs({"width": 320, "height": 640}, touch=True)
    page = tab.page
    tab.sign_in("exoneree1")
    tab.goto(reverse("my_document_upload"))

    said = page.locator("[data-chosen-file]")
    expect(said).to_have_text(none)
    assert said.evaluate("e => e.scrollWidth <= e.clientWidth")
    browsers_words = page.eval_on_selector("main input[type=file]", "e => getComputedStyle(e).color")
    assert browsers_words == "rgba(0, 0, 0, 0)"  # hidden; the button keeps its own colour
    photo = {"name": "IMG_0042.JPG", "mimeType": "image/jpeg", "buffer": sample_files.photo()}
    page.locator("main input[type=file]").set_input_files(files=[photo])
    expect(said).to_have_text(chosen)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
