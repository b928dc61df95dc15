"""What encryption costs: `python bench/crypto.py [--rounds N] [--skip-pages]`.

Prints the cost of encrypting and decrypting one value; of sealing and opening a 5 MB file
(a person's paper: AES-256-GCM in 64 KiB chunks, services/lib/file_crypto.py; target ≥ 200
MB/s each way, so that the network, not the cipher, limits an upload or a download); the
memory a document download holds for files of 5, 20 and 50 MB (streamed: flat whatever the
size); and the time of the 50-row people list (one page) three ways, in one run on one database:
  - as built: each row decrypts the one encrypted field the list shows (phone);
  - without decryption: the same page with decryption switched off (values shown as tokens);
  - everything decrypted: the page if the list loaded every encrypted profile field.
Target: as built ≤ 1.2 × without decryption.

Uses a throwaway SQLite database (or DATABASE_URL's, whose tables it creates in a test
database named after it and drops afterwards). `--smoke`: a few rows, small files and a few
rounds, to show the script still runs (tests/test_bench_smoke.py); it reuses a migrated test
database if there is one.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import timeit
import tracemalloc
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
os.environ.setdefault("DEBUG", "1")
if "REENTRY_VAR_DIR" not in os.environ:  # a throwaway folder, removed at exit
    os.environ["REENTRY_VAR_DIR"] = tempfile.mkdtemp(prefix="reentry-bench-")
    atexit.register(shutil.rmtree, os.environ["REENTRY_VAR_DIR"], ignore_errors=True)
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
os.environ.setdefault("BLIND_INDEX_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from signin import signed_in  # noqa: E402

from services.actions import people  # noqa: E402
from services.fields import EncryptedMixin  # noqa: E402
from services.lib import crypto, file_crypto  # noqa: E402
from services.selectors import records  # noqa: E402

ROWS = 50


def per_value(rounds: int) -> None:
    note = "Housing: met with the landlord; the lease starts on the first. " * 3
    for label, text in (("SSN (9 characters)", "900123456"), (f"note ({len(note)} characters)", note)):
        token = crypto.encrypt(text, context="bench.Value.text")
        enc = timeit.timeit(lambda t=text: crypto.encrypt(t, context="bench.Value.text"), number=rounds) / rounds
        dec = timeit.timeit(lambda t=token: crypto.decrypt(t, context="bench.Value.text"), number=rounds) / rounds
        print(f"  {label:<26} encrypt {enc * 1e6:6.1f} µs   decrypt {dec * 1e6:6.1f} µs")


FILE_MB = 5
TARGET_MB_S = 200


def per_file(rounds: int) -> None:
    """Seal and open a 5 MB file in memory (no disk): the cipher's own cost, median of rounds."""
    key = file_crypto.new_data_key()
    plaintext = os.urandom(FILE_MB * 1024 * 1024)
    sealed = io.BytesIO()
    file_crypto.encrypt_stream(io.BytesIO(plaintext), sealed, key=key, context="bench.Document:1")
    sealed_bytes = sealed.getvalue()

    def seal() -> None:
        file_crypto.encrypt_stream(io.BytesIO(plaintext), io.BytesIO(), key=key, context="bench.Document:1")

    def unseal() -> None:
        for _chunk in file_crypto.decrypt_stream(
            io.BytesIO(sealed_bytes), key=key, context="bench.Document:1", name="bench"
        ):
            pass

    for label, run in (("encrypt", seal), ("decrypt", unseal)):
        times = [timeit.timeit(run, number=1) for _ in range(rounds)]
        median = statistics.median(times)
        rate = FILE_MB / median
        verdict = "met" if rate >= TARGET_MB_S else "MISSED"
        print(
            f"  {label} {FILE_MB} MB   {median * 1000:7.1f} ms   {rate:7.0f} MB/s   (target ≥ {TARGET_MB_S}: {verdict})"
        )


def download_memory(client: Client, caseworker: object, person: object, sizes: tuple[int, ...]) -> None:
    """Peak Python memory while one document download is streamed, for growing files (MB)."""
    from services.actions.documents import document_upload
    from services.lib.uploads import clean
    from services.models.documents import Document

    for megabytes in (1, *sizes):  # the first, unreported, warms the process up (URLs, templates)
        data = os.urandom(megabytes * 1024 * 1024)
        pdf = (
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
            + b"2 0 obj << /Length "
            + str(len(data)).encode()
            + b" >>\nstream\n"
            + data
            + b"\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        )
        document = document_upload(
            by=caseworker, exoneree=person, document=Document(kind="court_order"), content=clean(pdf)
        )
        del data, pdf
        tracemalloc.start()
        response = client.get(f"/documents/{document.pk}/download/")
        received = sum(len(chunk) for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if megabytes > 1:
            print(f"  {megabytes:3d} MB file: {received / 2**20:5.1f} MB streamed, peak {peak / 2**20:5.2f} MB held")


def seed(rows: int) -> Client:
    from tests.factories import ExonereeFactory, OrganizationFactory, StaffFactory

    org = OrganizationFactory(name="Bench organization")
    caseworker = StaffFactory(organization=org, role="caseworker").user
    for n in range(rows):
        person = ExonereeFactory(
            organization=org,
            legal_name=f"Person {n:03d}",
            phone=f"555-01{n % 100:02d}",
            email=f"person{n}@example.org",
            address=f"{n} Main Street\nSpringfield",
            ssn=f"900{n:06d}",
        )
        people.caseload_assign(by=caseworker, exoneree=person, caseworkers=[caseworker])
    client = signed_in(caseworker)  # password, then a code: staff pages open only after both
    client.bench_caseworker, client.bench_person = caseworker, person  # for the download figures
    return client


VARIANTS = {
    "as built": contextlib.nullcontext,
    "without decryption": lambda: mock.patch.object(EncryptedMixin, "from_db_value", lambda self, value, *a: value),
    # The list's rows load only the columns they show (records.PERSON_ROW): here, every
    # encrypted profile field too, as a list built without that care would.
    "every field decrypted": lambda: mock.patch.object(
        records, "PERSON_ROW", [*records.PERSON_ROW, *records.NOT_IN_LISTS]
    ),
}


def time_pages(client: Client, rounds: int) -> dict[str, float]:
    """Median load time of each variant; the variants take turns, so drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_ in range(rounds + 1):
        for name, variant in VARIANTS.items():
            with variant():
                start = time.perf_counter()
                response = client.get("/people/")
                elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise SystemExit(f"/people/ answered {response.status_code}")
            if round_:  # the first round warms up
                samples[name].append(elapsed)
    return {name: statistics.median(times) for name, times in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200, help="page loads per variant (default 200)")
    parser.add_argument("--skip-pages", action="store_true", help="values and files only, not the people list")
    parser.add_argument("--smoke", action="store_true", help="a few rows, small files, a few rounds (seconds)")
    args = parser.parse_args()
    rounds, value_rounds, file_rounds, rows, sizes = args.rounds, 20_000, 20, ROWS, (5, 20, 50)
    if args.smoke:
        rounds, value_rounds, file_rounds, rows, sizes = min(rounds, 2), 200, 2, 3, (2,)

    setup_test_environment()
    test_db = connection.creation.create_test_db(verbosity=0, keepdb=args.smoke)
    try:
        print(f"Database: {connection.vendor} ({test_db}); Python {sys.version.split()[0]}")
        print("Per value (AES-256-GCM):")
        per_value(value_rounds)
        print(f"Per file (AES-256-GCM in 64 KiB chunks), median of {file_rounds}, {FILE_MB} MB:")
        per_file(file_rounds)
        client = seed(rows)
        print("Document download, streamed (peak Python memory while it runs, tracemalloc):")
        download_memory(client, client.bench_caseworker, client.bench_person, sizes)
        if args.skip_pages:
            return
        times = time_pages(client, rounds)
        as_built, plain, everything = times["as built"], times["without decryption"], times["every field decrypted"]
        print(f"People list, {rows} rows, median of {rounds} loads:")
        print(f"  as built (phone decrypted)       {as_built * 1000:7.2f} ms   {as_built / plain:5.2f}×")
        print(f"  without decryption               {plain * 1000:7.2f} ms   1.00×")
        print(f"  every profile field decrypted    {everything * 1000:7.2f} ms   {everything / plain:5.2f}×")
        print(f"Target: as built ≤ 1.2× without decryption: {'met' if as_built / plain <= 1.2 else 'MISSED'}")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
