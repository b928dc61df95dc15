"""`manage.py demo_provider_link`: the demo's way to the provider's page (a link otherwise
exists only in an email)."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from services.lifecycle import WITH_PROVIDER
from services.models.referrals import ProviderLink, Referral
from tests.test_seed_demo import DEV_SETTINGS, PASSWORD, seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dev_settings(settings):
    for name, value in DEV_SETTINGS.items():
        setattr(settings, name, value)


def run(*args: str) -> str:
    out = StringIO()
    call_command("demo_provider_link", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_lists_the_demos_referrals_with_their_provider_and_prints_a_link_that_opens_the_page(client):
    seed(password=PASSWORD)
    with_provider = Referral.objects.filter(status__in=WITH_PROVIDER).select_related("resource__provider")
    assert with_provider.exists()

    listed = run()
    first = with_provider.order_by("pk").first()
    link = run(str(first.pk)).strip()

    assert all(f"{referral.pk}" in listed and referral.resource.provider.name in listed for referral in with_provider)
    assert link.startswith(settings.SITE_URL + "/p/")
    assert ProviderLink.objects.filter(referral=first).exists()
    page = client.get(link.removeprefix(settings.SITE_URL))
    assert page.status_code == 200
    assert first.resource.provider.name in page.content.decode()


def test_refuses_a_referral_not_with_its_provider_and_without_debug(settings):
    seed(password=PASSWORD)
    elsewhere = Referral.objects.exclude(status__in=WITH_PROVIDER).first()

    with pytest.raises(CommandError, match="No demo referral"):
        run(str(elsewhere.pk))
    with pytest.raises(CommandError, match="No demo referral"):
        run("999999")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run()
