"""The document store on an S3-compatible server, over HTTP: moto's standalone server, started
on a free port for this module (CI runs it: REQUIRE_SERVICES=1 makes a missing moto a failure).
MinIO is the compose file's store; both speak the same protocol to django-storages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from services.lib import uploads, vault
from services.models.documents import DocumentKind
from tests import sample_files
from tests.conftest import settings_in_a_fresh_process
from tests.test_documents import add_document, assert_no_plaintext_in, plaintext_of

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "reentry-documents"

if os.environ.get("REQUIRE_SERVICES") != "1":
    pytest.importorskip("moto.server", reason="moto[server] is a dev dependency (pip install -e .[dev])")
import boto3  # noqa: E402 (after the skip: without moto there is no server to talk to)

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's server in its own process, on a free port; its address once it answers."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_documents(s3_server, settings):
    """The documents storage on the server, as settings.py builds it from DOCUMENTS_S3_*."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for stored in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=stored["Key"])
    client.delete_bucket(Bucket=BUCKET)


def stored_objects(client) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in listed}


def test_documents_on_s3_are_sealed_and_read_back(world, s3_documents):
    pdf = sample_files.pdf_with_stream(os.urandom(200_000))
    photo = sample_files.photo((300, 200))
    court_order = add_document(world, pdf, DocumentKind.COURT_ORDER)
    state_id = add_document(world, photo, DocumentKind.STATE_ID)

    objects = stored_objects(s3_documents)
    assert set(objects) == {court_order.storage_name, state_id.storage_name}
    for stored in objects.values():
        assert_no_plaintext_in(stored, pdf)
        assert_no_plaintext_in(stored, uploads.clean(photo).content)
    assert plaintext_of(court_order) == pdf
    assert vault.storage().exists(court_order.storage_name)


def test_download_streams_from_s3_through_the_gate(login, world, s3_documents):
    pdf = sample_files.pdf()
    document = add_document(world, pdf, DocumentKind.COURT_ORDER)

    response = login("caseworker1").get(reverse("document_download", args=[document.pk]))

    assert b"".join(response.streaming_content) == pdf
    assert login("caseworker3").get(reverse("document_download", args=[document.pk])).status_code == 404


def test_settings_choose_s3_when_a_bucket_is_named():
    """settings.py builds the same storage from the environment (a fresh process reads it)."""
    environment = {
        **os.environ,
        "DEBUG": "1",
        "DOCUMENTS_S3_BUCKET": BUCKET,
        "DOCUMENTS_S3_ENDPOINT_URL": "http://minio:9000",
        "DOCUMENTS_S3_ACCESS_KEY": "reentry",
        "DOCUMENTS_S3_SECRET_KEY": "secret-key",
    }
    storage = settings_in_a_fresh_process("STORAGES['documents']", environment)

    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == BUCKET
    assert storage["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert storage["OPTIONS"]["default_acl"] == "private" and storage["OPTIONS"]["querystring_auth"]
