"""A person's papers: the list, the checklist of the key ones, and the checklist's data file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from services import legal_rules
from services.choices import NeedDomain, NeedStatus
from services.models.documents import Document, DocumentKind
from services.models.needs import Need
from services.models.people import Exoneree

CHECKLIST_FILE = Path(__file__).resolve().parent.parent / "data" / "document_checklist.yaml"

# What a list of documents loads: never the data key (read only by a download).
LISTED = ["exoneree_id", "kind", "title", "issued_on", "expires_on", "shown_on_plan", "uploaded_at", "content_type"]
LISTED += ["size", "uploaded_by", "consent_id", "file_id", "replaces_id"]


@dataclass(frozen=True)
class ChecklistItem:
    kind: str
    domain: str
    need: str  # the description of the need made in one click
    note: str = ""  # the paper's name in the person's state, for the certificate


@dataclass(frozen=True)
class Checklist:
    always: tuple[ChecklistItem, ...]
    certificate: ChecklistItem
    # state → the certificate's name by language ("name": English) and its "law"
    states: dict[str, dict[str, str]]

    def certificate_name(self, state: str, *, law: bool = True) -> str | None:
        """The certificate's name in this state, in the language of the request (English where
        the file has no other); with `law`, its law beside it, as staff read it."""
        names = self.states.get(state)
        if names is None:
            return None
        name = names.get(get_language().split("-")[0], names["name"])
        return f"{name} ({names['law']})" if law and names.get("law") else name


def _item(raw: dict[str, Any], where: str) -> ChecklistItem:
    kinds, domains = set(DocumentKind.values), set(NeedDomain.values)
    if raw.get("kind") not in kinds or raw.get("domain") not in domains or not str(raw.get("need", "")).strip():
        raise ImproperlyConfigured(f"{CHECKLIST_FILE.name}: {where} needs a known kind, a need domain and a need.")
    return ChecklistItem(raw["kind"], raw["domain"], str(raw["need"]).strip())


def parse_checklist(raw: Any) -> Checklist:
    """The data file, checked: every kind and domain known, states as two capital letters."""
    if not isinstance(raw, dict) or not isinstance(raw.get("always"), list):
        raise ImproperlyConfigured(f"{CHECKLIST_FILE.name}: needs `always` (a list) and `certificate_of_innocence`.")
    always = tuple(_item(entry, f"always[{index}]") for index, entry in enumerate(raw["always"]))
    certificate_raw = raw.get("certificate_of_innocence") or {}
    certificate = _item(certificate_raw, "certificate_of_innocence")
    states = certificate_raw.get("states") or {}
    bad = [state for state in states if not (isinstance(state, str) and len(state) == 2 and state.isupper())]
    languages = {code for code, _name in settings.LANGUAGES}
    if bad or not all(_names_ok(names, languages) for names in states.values()):
        raise ImproperlyConfigured(
            f"{CHECKLIST_FILE.name}: states are two capital letters, each with the paper's `name`, "
            f"its `law` and its name in other languages ({', '.join(sorted(languages - {'en'}))})."
        )
    if len({item.kind for item in always} | {certificate.kind}) != len(always) + 1:
        raise ImproperlyConfigured(f"{CHECKLIST_FILE.name}: a kind is listed twice.")
    return Checklist(always, certificate, dict(states))


def _names_ok(names: Any, languages: set[str]) -> bool:
    if not isinstance(names, dict) or not set(names) <= {"name", "law"} | languages - {"en"}:
        return False
    return all(isinstance(name, str) and name.strip() for name in names.values()) and "name" in names


@lru_cache(maxsize=1)
def checklist_data() -> Checklist:
    return parse_checklist(yaml.safe_load(CHECKLIST_FILE.read_text(encoding="utf-8")))


def checklist_items(exoneree: Exoneree, *, law: bool = True) -> list[ChecklistItem]:
    """The key papers this person needs: the certificate only where their state has one —
    named in the checklist's own file, or required by the state's compensation statute (the
    rules table, services/data/compensation_rules.yaml). `law`: the certificate named with its
    law, as staff read it; the person reads its name in plain words."""
    data = checklist_data()
    items = list(data.always)
    state = exoneree.conviction_state.upper()
    name = data.certificate_name(state, law=law)
    if name is None and (rule := legal_rules.rule_for(state)) is not None and rule.innocence_finding_required:
        name = (
            _("Certificate or finding of innocence (%(citation)s)") % {"citation": rule.citation}
            if law
            else str(DocumentKind.CERTIFICATE_OF_INNOCENCE.label)
        )
    if name:
        certificate = data.certificate
        items.append(ChecklistItem(certificate.kind, certificate.domain, certificate.need, note=name))
    return items


def checklist_item(exoneree: Exoneree, kind: str) -> ChecklistItem | None:
    return next((item for item in checklist_items(exoneree) if item.kind == kind), None)


def documents_of(exoneree: Exoneree) -> list[Document]:
    """The current documents of a person, each with the earlier versions it replaced
    (`earlier`, newest first). One query: every version of the person's papers is loaded (a
    person has few) and the chains are followed here."""
    versions = list(
        Document.objects.filter(exoneree=exoneree)
        .only(*LISTED, "deleted_at")
        .select_related("uploaded_by")
        .order_by("kind", "-uploaded_at", "-pk")
    )
    by_pk = {document.pk: document for document in versions}
    replaced = {document.replaces_id for document in versions if document.replaces_id is not None}
    current = [document for document in versions if document.pk not in replaced and document.deleted_at is None]
    for document in current:
        document.earlier, previous = [], by_pk.get(document.replaces_id)
        while previous is not None:
            if previous.deleted_at is None:
                document.earlier.append(previous)
            previous = by_pk.get(previous.replaces_id)
    return current


def checklist(
    exoneree: Exoneree,
    documents: list[Document],
    *,
    today: date | None = None,
    needs: Iterable[Need] | None = None,
    law: bool = True,
) -> list[dict[str, Any]]:
    """Each key paper: present (and whether expired), or missing; and whether a need for it
    is already open, or was met (the need made for it in one click, which names it: Need.papers).

    `needs`: every need of the person, when the page has them loaded already (saves a query).
    `law`: the certificate named with its law (staff); without, in plain words (the person)."""
    today = today or timezone.localdate()
    items = checklist_items(exoneree, law=law)
    domains = {item.domain for item in items}
    if needs is None:
        needs = Need.objects.filter(exoneree=exoneree, domain__in=domains).only(
            "description", "domain", "status", "closed_on", "papers"
        )
    needs = [need for need in needs if need.domain in domains]
    rows = []
    for item in items:
        for_it = [need for need in needs if need.is_for_paper(item.kind, item.need)]
        asked = any(need.is_open for need in for_it)
        # A need for the paper was met: staff are told it was obtained (and when), and asked for a copy.
        met = [need for need in for_it if need.status == NeedStatus.MET]
        met_on = max((need.closed_on for need in met if need.closed_on), default=None)
        held = [document for document in documents if document.kind == item.kind]
        expired = bool(held) and all(doc.expires_on is not None and doc.expires_on < today for doc in held)
        label = str(DocumentKind(item.kind).label)
        # The state's name for the paper, when it is more than the label again ("Certificate of
        # innocence (735 ILCS 5/2-702)" is the label, said once, with its law for staff).
        named = item.note if item.note.casefold().startswith(label.casefold()) else ""
        rows.append(
            {
                "kind": item.kind,
                "label": named or label,
                "note": "" if named else item.note,
                "present": bool(held) and not expired,
                "expired": expired,
                "need_open": asked,
                "need_met": bool(met) and not asked,
                "met_on": met_on,
            }
        )
    return rows


def documents_page(exoneree: Exoneree, *, on_plan: bool = False, needs: list[Need] | None = None) -> dict[str, Any]:
    """What the person page (or the plan) shows of the papers: the list and the checklist.

    The plan's checklist reads only the papers shown on the plan: staff keep a paper off it
    to withhold it, and "on file" or "expired" would tell the person it exists. It names the
    certificate without its law: a statute number tells the person nothing they can use.

    `needs`: every need of the person, if the page loaded them (the checklist reads them)."""
    documents = documents_of(exoneree)
    if on_plan:
        documents = [document for document in documents if document.shown_on_plan]
    checklist_rows = checklist(exoneree, documents, needs=needs, law=not on_plan)
    return {"documents": documents, "document_checklist": checklist_rows}
