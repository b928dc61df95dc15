"""How fast the director's outcomes page is on a big organization: `python bench/outcomes.py [--scale S]`.

Seeds one organization with 200,000 referrals and 1,000,000 follow-ups at --scale 1 (with
20,000 people, 160,000 needs, about 750,000 referral events and 36,000 assessments), spread
over the last three years, then prints the median time of the outcomes figures for the
default period (the last 12 months). The seed writes rows directly, so the outcome counts
(services/outcome_counts.py) are then recounted, as `manage.py refresh_outcomes` does, and
the recount is timed. The director then signs in as a person would (password, then a code
from their authenticator) and the page is fetched through the test client: p50 and p95 over
--rounds, with its query count, and each figure's own median time through the selector.
Target: ≤ 300 ms on PostgreSQL. Each figure is printed with the machine's load average.

Uses a test database named after DATABASE_URL's (test_<name>; SQLite without it). --keep
keeps it afterwards and reuses a seeded one, so a second run skips the seeding (and the
recount, unless --recount). `--smoke`: a thousandth of the size and 2 rounds, to show the
script still runs (tests/test_bench_smoke.py); it reuses a migrated test database if there is one.
Encrypted text fields are left empty: the figures never read them, and encrypting a
million notes would only measure AES.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("REENTRY_VAR_DIR", tempfile.mkdtemp(prefix="reentry-bench-"))
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
os.environ.setdefault("BLIND_INDEX_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from signin import signed_in  # noqa: E402

from services import outcome_counts  # noqa: E402
from services.choices import (  # noqa: E402
    AssessmentDomain,
    AssessmentKind,
    ClaimStage,
    NeedDomain,
    NeedStatus,
    PersonAnswer,
    ReferralStatus,
    Role,
)
from services.models.casework import Assessment, AssessmentScore  # noqa: E402
from services.models.directory import Provider, Resource  # noqa: E402
from services.models.follow_ups import FollowUp  # noqa: E402
from services.models.legal import CompensationClaim  # noqa: E402
from services.models.needs import Need  # noqa: E402
from services.models.organizations import Organization, StaffMember  # noqa: E402
from services.models.outcomes import OutcomeCount  # noqa: E402
from services.models.people import Exoneree  # noqa: E402
from services.models.referrals import Referral, ReferralEvent  # noqa: E402
from services.outcomes.report import FIGURES, outcomes  # noqa: E402
from services.outcomes.scope import OutcomeFilters  # noqa: E402

S = ReferralStatus
# Where a sent referral ends up, and the moves that take it there.
PATHS = [
    (0.45, [S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED]),
    (0.15, [S.SENT]),
    (0.10, [S.SENT, S.ACCEPTED]),
    (0.10, [S.SENT, S.DECLINED]),
    (0.07, [S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.UNRESOLVED]),
    (0.05, [S.SENT, S.CANCELLED]),
    (0.05, []),  # still a draft
    (0.03, [S.CANCELLED]),  # cancelled before it was sent
]
# The statuses a provider moves a referral to through its link (the rest are the caseworker's).
PROVIDER_MOVES_TO = {S.ACCEPTED, S.DECLINED, S.IN_PROGRESS, S.COMPLETED}
SCORED = [
    AssessmentDomain.HOUSING,
    AssessmentDomain.INCOME,
    AssessmentDomain.EMPLOYMENT,
    AssessmentDomain.MENTAL_HEALTH,
]


class Seeder:
    def __init__(self, scale: float, batch: int) -> None:
        self.scale, self.batch = scale, batch
        self.rng = random.Random(20250415)  # noqa: S311 (made-up rows, the same every run; nothing secret)
        self.now = timezone.now()
        self.today = timezone.localdate()

    def size(self, full: int) -> int:
        return max(1, int(full * self.scale))

    def day(self, back: int = 3 * 365, ahead: int = 0) -> date:
        return self.today - timedelta(days=self.rng.randint(-ahead, back))

    def save(self, model: type, rows: list, label: str) -> list:
        start, saved = time.perf_counter(), []
        for i in range(0, len(rows), self.batch):
            saved += model.objects.bulk_create(rows[i : i + self.batch])
            done = min(i + self.batch, len(rows))
            print(f"\r  {label:<18} {done:>9,}/{len(rows):,}  {time.perf_counter() - start:6.1f} s", end="", flush=True)
        print()
        return saved

    def run(self) -> tuple[Organization, object]:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        rng = self.rng
        org = Organization.objects.create(name="Bench organization")
        other = Organization.objects.create(name="Another organization")
        director = User.objects.create(username="bench-director", first_name="Dana", last_name="Director")
        StaffMember.objects.create(user=director, organization=org, role=Role.DIRECTOR)
        caseworkers = self.save(
            User,
            [User(username=f"cw{n}", first_name="Case", last_name=f"Worker {n}") for n in range(self.size(60))],
            "caseworkers",
        )
        StaffMember.objects.bulk_create(
            [StaffMember(user=u, organization=org, role=Role.CASEWORKER) for u in caseworkers]
        )
        provider = Provider.objects.create(organization=org, name="Bench provider")
        services = [Resource(organization=org, provider=provider, name=f"Service {n}") for n in range(50)]
        resources = self.save(Resource, services, "resources")

        statuses = [ClaimStage.ASSESSING, ClaimStage.FILED, ClaimStage.AWARDED, ClaimStage.DENIED]
        statuses.append(ClaimStage.NOT_ELIGIBLE)
        deadlines = []
        people = []
        for n in range(self.size(20_000)):
            released = self.day(back=4 * 365)
            people.append(
                Exoneree(
                    organization=org if n % 10 else other,  # a tenth belongs elsewhere: scoping is measured too
                    legal_name=f"Person {n:06d}",
                    release_date=released,
                )
            )
            deadlines.append((released + timedelta(days=730), rng.choice(statuses)))
        people = self.save(Exoneree, people, "people")
        claims = [
            CompensationClaim(
                exoneree=person,
                organization_id=person.organization_id,
                stage=stage,
                deadline_override=deadline,
                override_reason="bench",
                filing_deadline=deadline,
                deadline_basis="override",
                filed_on=deadline - timedelta(days=30) if stage in (ClaimStage.FILED, ClaimStage.AWARDED) else None,
            )
            for person, (deadline, stage) in zip(people, deadlines, strict=True)
        ]
        self.save(CompensationClaim, claims, "claims")
        caseworker_of = {p.pk: rng.choice(caseworkers) for p in people}
        through = Exoneree.caseworkers.through
        self.save(through, [through(exoneree_id=pk, user_id=u.pk) for pk, u in caseworker_of.items()], "caseloads")

        domains = NeedDomain.values
        needs = []
        for _ in range(self.size(160_000)):
            opened = self.day()
            roll = rng.random()
            status = NeedStatus.MET if roll < 0.45 else NeedStatus.NO_LONGER_WANTED if roll < 0.5 else NeedStatus.OPEN
            closed = min(opened + timedelta(days=rng.randint(1, 150)), self.today) if roll < 0.5 else None
            person = rng.choice(people)
            needs.append(
                Need(
                    exoneree=person,
                    organization_id=person.organization_id,
                    domain=rng.choice(domains),
                    status=status,
                    opened_on=opened,
                    closed_on=closed,
                )
            )
        needs = self.save(Need, needs, "needs")

        weights, paths = zip(*PATHS, strict=True)
        referrals, moves = [], []
        for n in range(self.size(200_000)):
            need = needs[n % len(needs)]
            made = timezone.make_aware(datetime.combine(need.opened_on, datetime.min.time())) + timedelta(
                days=rng.randint(0, 20), hours=rng.randint(8, 17)
            )
            when, steps = made, []
            for status in rng.choices(paths, weights)[0]:
                when = when + timedelta(days=rng.randint(1, 15), hours=rng.randint(0, 5))
                steps.append((status, when))
            final = steps[-1] if steps else (S.DRAFT, made)
            # Most providers answer through their link (the moves after sending are theirs).
            by_link = rng.random() < 0.6
            answers = [when for status, when in steps if status in PROVIDER_MOVES_TO] if by_link else []
            done = final[0] == S.COMPLETED
            referrals.append(
                Referral(
                    need=need,
                    organization_id=need.organization_id,
                    resource=rng.choice(resources),
                    status=final[0],
                    created_at=made,
                    status_changed_at=final[1],
                    provider_answered_at=answers[0] if answers else None,
                    sent_at=next((when for status, when in steps if status == S.SENT), None),
                    accepted_at=next((when for status, when in steps if status == S.ACCEPTED), None),
                    person_answer=PersonAnswer.YES if done and rng.random() < 0.5 else "",
                )
            )
            moves.append(([(S.DRAFT, made), *steps], by_link))
        referrals = self.save(Referral, referrals, "referrals")
        events = []
        for referral, (steps, by_link) in zip(referrals, moves, strict=True):
            previous = ""
            for status, when in steps:
                answer = provider if by_link and status in PROVIDER_MOVES_TO else None
                events.append(
                    ReferralEvent(
                        referral=referral, from_status=previous, to_status=status, at=when, by_provider=answer
                    )
                )
                previous = status
        self.save(ReferralEvent, events, "referral events")

        follow_ups = []
        for _ in range(self.size(1_000_000)):
            person = rng.choice(people)
            due = self.now - timedelta(days=rng.randint(-30, 3 * 365), hours=rng.randint(0, 23))
            done = due + timedelta(days=rng.randint(-3, 6)) if rng.random() < 0.75 else None
            follow_ups.append(
                FollowUp(
                    exoneree=person,
                    title="Check-in",
                    due_at=due,
                    done_at=done if done is None or done < self.now else None,
                    assigned_to=caseworker_of[person.pk],
                )
            )
        self.save(FollowUp, follow_ups, "follow-ups")

        assessments, scores_of = [], []
        for person in people:
            taken = [(AssessmentKind.INTAKE, person.release_date + timedelta(days=rng.randint(0, 30)))]
            if rng.random() < 0.8:
                taken.append((AssessmentKind.INTERIM, taken[0][1] + timedelta(days=rng.randint(30, 400))))
            for kind, on in taken:
                assessments.append(Assessment(exoneree=person, kind=kind, taken_on=min(on, self.today)))
                scores_of.append({domain: rng.randint(1, 5) for domain in SCORED})
        assessments = self.save(Assessment, assessments, "assessments")
        scores = [
            AssessmentScore(assessment=a, domain=domain, score=score)
            for a, chosen in zip(assessments, scores_of, strict=True)
            for domain, score in chosen.items()
        ]
        self.save(AssessmentScore, scores, "assessment scores")
        return org, director


def times_ms(run, rounds: int) -> list[float]:
    run()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_ms(run, rounds: int) -> float:
    return statistics.median(times_ms(run, rounds))


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]


def load() -> str:
    return "load " + " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (default 1: 200k/1M)")
    parser.add_argument("--rounds", type=int, default=20, help="timed runs per measurement (default 20)")
    parser.add_argument("--batch", type=int, default=5000, help="rows per bulk insert (default 5000)")
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse it if already seeded")
    parser.add_argument("--recount", action="store_true", help="recount a reused database's outcome counts")
    parser.add_argument("--smoke", action="store_true", help="a thousandth of the size, 2 rounds (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.scale, args.rounds = min(args.scale, 0.001), min(args.rounds, 2)

    setup_test_environment()
    # serialize=False: nothing here rolls back to a snapshot, and serializing 2M rows takes minutes.
    test_db = connection.creation.create_test_db(verbosity=0, keepdb=args.keep or args.smoke, serialize=False)
    try:
        print(f"Database: {connection.vendor} ({test_db}); scale {args.scale:g}")
        if Referral.objects.exists():
            org = Organization.objects.get(name="Bench organization")
            director = StaffMember.objects.get(organization=org, role=Role.DIRECTOR).user
            print("Reusing the seeded rows.")
        else:
            start = time.perf_counter()
            org, director = Seeder(args.scale, args.batch).run()
            print(f"Seeded in {time.perf_counter() - start:.0f} s.")
            if connection.vendor == "postgresql":
                # VACUUM too: it sets the visibility map that index-only scans rely on, as
                # autovacuum would on a live database.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
        counts = {m.__name__: m.objects.count() for m in (Exoneree, Need, Referral, ReferralEvent, FollowUp)}
        print("Rows: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
        if args.recount or not OutcomeCount.objects.filter(organization=org).exists():
            start = time.perf_counter()
            kept = outcome_counts.recount(org)
            outcome_counts.refresh_statistics()  # as refresh_outcomes does: nothing by hand beyond it
            took = time.perf_counter() - start
            print(f"Recount (refresh_outcomes) of the organization: {took:.1f} s, {kept:,} counts ({load()})")
        else:
            print("Reusing the kept counts (--recount to count again).")

        timezone.activate(org.timezone)
        today = timezone.localdate()
        filters = OutcomeFilters(start=today.replace(year=today.year - 1) + timedelta(days=1), end=today)
        people = Exoneree.objects.filter(organization=org)
        print(f"Period {filters.start} – {filters.end}, median of {args.rounds} runs:")
        for name in FIGURES:
            ms = median_ms(lambda n=name: outcomes(org, people, filters, only=n), args.rounds)
            print(f"  {name:<14} {ms:8.1f} ms  ({load()})")
        selector = median_ms(lambda: outcomes(org, people, filters), args.rounds)
        print(f"  all figures (selector)  {selector:8.1f} ms  ({load()})")
        client = signed_in(director)
        url = reverse("outcome_dashboard")

        def get() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        page = times_ms(get, args.rounds)
        with CaptureQueriesContext(connection) as queries:
            get()
        p50 = statistics.median(page)
        print(f"  the page (signed in, test client)  p50 {p50:.1f} ms, p95 {p95(page):.1f} ms, {len(queries)} queries")
        print(f"  ({load()})")
        print(f"Target ≤ 300 ms for the page (p50): {'met' if p50 <= 300 else 'MISSED'}")
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
