"""How fast retention's purge is: `python bench/purge.py [--people N] [--smoke]`.

Seeds one organization with N people (1,000 by default; 20 with --smoke) whose cases closed
eight years ago (the organization keeps seven), each with a record of usual size: 4 needs
with a referral each (and their events), 12 follow-ups, 4 notes, 2 assessments, 6 messages,
a consent, an enrolment, an access-log entry and a sealed paper in the document store. A
director confirms them all; the outcome counts are recounted. Then `manage.py purge_due` is
timed, and the script prints people and rows per second, the peak of Python's own memory
(tracemalloc, with --memory: tracing slows the purge down) and of the process (ru_maxrss),
and checks what must hold afterwards: no person
left, no file left, the counts as before, the access log verifying.

Uses a test database named after DATABASE_URL's (test_<name>; SQLite without it), dropped at
the end. Encrypted fields hold short texts (encrypting them is part of seeding, not the purge).
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("REENTRY_VAR_DIR", tempfile.mkdtemp(prefix="reentry-bench-"))
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
os.environ.setdefault("BLIND_INDEX_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from services import audit, outcome_counts, retention  # noqa: E402
from services.choices import AssessmentKind, ExitReason, NeedDomain, ReferralStatus, Role  # noqa: E402
from services.lib import vault  # noqa: E402
from services.models.audit import AuditEvent  # noqa: E402
from services.models.casework import Assessment, AssessmentScore, CaseNote  # noqa: E402
from services.models.consent import Consent  # noqa: E402
from services.models.directory import Provider, Resource  # noqa: E402
from services.models.documents import Document, DocumentKind  # noqa: E402
from services.models.enrolments import Enrolment  # noqa: E402
from services.models.follow_ups import FollowUp  # noqa: E402
from services.models.messages import Message  # noqa: E402
from services.models.needs import Need  # noqa: E402
from services.models.organizations import Organization, StaffMember  # noqa: E402
from services.models.outcomes import RetiredCount  # noqa: E402
from services.models.people import Exoneree  # noqa: E402
from services.models.referrals import Referral, ReferralEvent  # noqa: E402
from services.models.retention import RetentionReview  # noqa: E402

DOMAINS = [NeedDomain.HOUSING, NeedDomain.INCOME, NeedDomain.EMPLOYMENT, NeedDomain.HEALTH_COVERAGE]


def seed(people: int) -> tuple[Organization, list[str]]:
    """The organization, its staff, and `people` closed cases; returns the stored files' names."""
    User = get_user_model()
    org = Organization.objects.create(name="Bench organization", code="bench", retention_years=7)
    director = User.objects.create(username="director@bench")
    StaffMember.objects.create(user=director, organization=org, role=Role.DIRECTOR)
    worker = User.objects.create(username="caseworker@bench")
    StaffMember.objects.create(user=worker, organization=org, role=Role.CASEWORKER)
    provider = Provider.objects.create(organization=org, name="Bench provider")
    place = Resource.objects.create(organization=org, provider=provider, name="Bench housing")
    today = timezone.localdate()
    closed = retention.add_years(today, -8)
    now = timezone.now() - timedelta(days=9 * 365)
    files, start = [], time.perf_counter()
    for i in range(people):
        person = Exoneree.objects.create(
            organization=org, legal_name=f"Person {i}", ssn=f"900{i:06d}"[:9], release_date=closed - timedelta(days=700)
        )
        person.caseworkers.add(worker)
        Exoneree.objects.filter(pk=person.pk).update(case_closed_on=closed)
        Enrolment.objects.create(
            exoneree=person, opened_on=closed - timedelta(days=900), closed_on=closed, exit_reason=ExitReason.GOALS_MET
        )
        needs = Need.objects.bulk_create(
            Need(exoneree=person, organization=org, domain=domain, description="Help", opened_on=closed)
            for domain in DOMAINS
        )
        referrals = Referral.objects.bulk_create(
            Referral(need=need, organization=org, resource=place, status=ReferralStatus.COMPLETED, created_by=worker)
            for need in needs
        )
        ReferralEvent.objects.bulk_create(
            ReferralEvent(referral=referral, from_status=old, to_status=new, at=now, by=worker)
            for referral in referrals
            for old, new in (("draft", "sent"), ("sent", "completed"))
        )
        FollowUp.objects.bulk_create(
            FollowUp(
                exoneree=person, title="Call", due_at=now + timedelta(days=30 * k), assigned_to=worker, done_at=now
            )
            for k in range(12)
        )
        CaseNote.objects.bulk_create(CaseNote(exoneree=person, author=worker, text="Met today") for _ in range(4))
        for kind in (AssessmentKind.INTAKE, AssessmentKind.EXIT):
            assessment = Assessment.objects.create(exoneree=person, kind=kind, taken_on=closed, taken_by=worker)
            AssessmentScore.objects.create(assessment=assessment, domain="housing", score=3)
        Message.objects.bulk_create(
            Message(exoneree=person, organization=org, author=worker, text="Hello", created_at=now) for _ in range(6)
        )
        Consent.objects.create(
            exoneree=person,
            provider=provider,
            purpose="Housing",
            starts_on=closed - timedelta(days=300),
            ends_on=closed,
            signed_how="paper",
            signed_on=closed - timedelta(days=300),
        )
        document = Document(exoneree=person, kind=DocumentKind.STATE_ID, uploaded_by=worker, content_type="image/jpeg")
        sealed = vault.seal(
            io.BytesIO(b"a paper " * 512), file_id=document.file_id, context=document.encryption_context
        )
        document.storage_name, document.data_key, document.size = sealed.storage_name, sealed.data_key, sealed.size
        document.save()
        files.append(sealed.storage_name)
        audit.record(AuditEvent.Action.RECORD_VIEWED, actor=worker, exoneree=person, target=audit.describe(person))
        RetentionReview.objects.create(exoneree=person, case_closed_on=closed, confirmed_by=director)
        if (i + 1) % 100 == 0 or i + 1 == people:
            print(f"\r  seeded {i + 1:>6,}/{people:,}  {time.perf_counter() - start:6.1f} s", end="", flush=True)
    print()
    return org, files


KEPT = {AuditEvent, RetiredCount}  # a purge adds to these: its entry, the kept counts


def row_count() -> int:
    """Rows in the app's tables that a purge removes from (all but the log and kept counts)."""
    return sum(m.objects.count() for m in apps.get_app_config("services").get_models() if m not in KEPT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1000, help="closed cases to purge (default 1,000)")
    parser.add_argument("--memory", action="store_true", help="trace Python's memory (slows the purge down)")
    parser.add_argument("--profile", action="store_true", help="print where the purge's time goes")
    parser.add_argument("--smoke", action="store_true", help="20 cases: checks the script, not the speed")
    args = parser.parse_args()
    people = 20 if args.smoke else args.people

    setup_test_environment()
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tempfile.mkdtemp(prefix="reentry-bench-documents-")},
        },
    }
    test_db = connection.creation.create_test_db(verbosity=0, serialize=False)
    try:
        print(f"Database: {connection.vendor} ({test_db}); {people:,} closed cases")
        org, files = seed(people)
        outcome_counts.recount(org)
        counts = outcome_counts.stored(org)
        rows_before = row_count()
        print(f"Rows in the app's tables: {rows_before:,}; files: {len(files):,}")

        reverse("retention_review")  # the URL map is loaded once per process: not the purge's time
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = io.StringIO()
        if args.memory:
            tracemalloc.start()
        start = time.perf_counter()
        if args.profile:
            import cProfile

            cProfile.runctx("call_command('purge_due', stdout=out)", globals(), locals(), sort="cumtime")
        else:
            call_command("purge_due", stdout=out)
        seconds = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lines = out.getvalue().splitlines()
        print(*(f"  {line}" for line in lines[-3:]), sep="\n")

        rows_gone = rows_before - row_count()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        print(f"purge_due: {seconds:.1f} s, {people / seconds:,.1f} people/s, {rows_gone / seconds:,.0f} rows/s")
        traced = f"Python's own peak {peak / 2**20:.1f} MiB; " if args.memory else ""
        print(
            f"Memory: {traced}the process's peak {rss_after / 1024:.0f} MiB, "
            f"{(rss_after - rss_before) / 1024:.1f} MiB above its peak before the purge"
        )
        left = Exoneree.objects.filter(organization=org).count()
        files_left = sum(1 for name in files if vault.storage().exists(name))
        outcome_counts.recount(org)
        same = outcome_counts.stored(org) == counts
        call_command("verify_audit", stdout=io.StringIO())
        print(f"Checks: {left} people left, {files_left} files left, counts unchanged: {same}, access log verifies")
        if left or files_left or not same:
            raise SystemExit(1)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
