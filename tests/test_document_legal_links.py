"""A court order or a certificate of innocence is kept with the legal record it proves (issue
20): chosen on the upload form, checked to be this person's and the right kind of paper, and
listed on the Legal page with a download link."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from services.models.documents import Document, DocumentKind
from services.models.legal import CompensationClaim, InnocenceCertificate
from tests import sample_files
from tests.test_documents import add_document

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def claim_of(person, world) -> CompensationClaim:
    return CompensationClaim.objects.create(
        exoneree=person, organization=person.organization, jurisdiction="IL", trigger_date=date(2026, 6, 1)
    )


def upload(login, world, **fields):
    url = reverse("document_upload", args=[world.marcus.exoneree.pk])
    return login("caseworker1").post(url, {"file": sample_files.upload(sample_files.pdf()), **fields})


def test_a_court_order_uploaded_for_a_claim_is_listed_with_the_claim(login, world):
    claim = claim_of(world.marcus.exoneree, world)

    response = upload(login, world, kind=DocumentKind.COURT_ORDER, claim=claim.pk, shown_on_plan="on")

    assert response.status_code == 302
    document = Document.objects.get(claim=claim)
    legal = login("caseworker1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()
    assert reverse("document_download", args=[document.pk]) in legal
    assert "Court order (added" in legal


def test_a_certificate_is_kept_with_its_record(login, world):
    certificate = InnocenceCertificate.objects.create(exoneree=world.marcus.exoneree, court="Cook County")

    upload(login, world, kind=DocumentKind.CERTIFICATE_OF_INNOCENCE, certificate=certificate.pk)

    document = Document.objects.get(certificate=certificate)
    legal = login("director1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()
    assert reverse("document_download", args=[document.pk]) in legal


def test_the_wrong_kind_of_paper_or_someone_elses_claim_is_refused_beside_the_field(login, world):
    mine = claim_of(world.marcus.exoneree, world)
    theirs = claim_of(world.thomas.exoneree, world)
    certificate = InnocenceCertificate.objects.create(exoneree=world.marcus.exoneree, court="Cook County")

    wrong_kind = upload(login, world, kind=DocumentKind.BIRTH_CERTIFICATE, claim=mine.pk)
    not_his = upload(login, world, kind=DocumentKind.COURT_ORDER, claim=theirs.pk)
    order_as_certificate = upload(login, world, kind=DocumentKind.COURT_ORDER, certificate=certificate.pk)

    assert wrong_kind.status_code == 400 and "court order" in wrong_kind.context["form"].errors["claim"][0]
    assert not_his.status_code == 400 and "claim" in not_his.context["form"].errors  # not one of the choices
    assert order_as_certificate.status_code == 400 and order_as_certificate.context["form"].errors["certificate"]
    assert not Document.objects.exists()


def test_a_deleted_paper_leaves_the_legal_page(login, world):
    claim = claim_of(world.marcus.exoneree, world)
    document = add_document(world, sample_files.pdf(), DocumentKind.COURT_ORDER, claim=claim)
    Document.objects.filter(pk=document.pk).update(deleted_at=document.uploaded_at)

    legal = login("caseworker1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()

    assert reverse("document_download", args=[document.pk]) not in legal
