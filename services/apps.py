from datetime import datetime
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SecondFactorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with a site that asks for the second factor (services.admin_site)."""

    default = False  # named in INSTALLED_APPS in place of django.contrib.admin
    default_site = "services.admin_site.SecondFactorAdminSite"


def _connect_figures() -> None:
    """The figures' cache (services.figures, a low layer) queues its background recompute as a
    task and computes the director's default pages through the layers above it."""
    from services import figures

    def queue(organization_id: int) -> None:
        from services import tasks

        tasks.recompute_figures.delay(organization_id)

    def compute(director: Any, organization: Any, now: datetime) -> None:
        from django.utils import translation

        from services.selectors import users
        from services.selectors.dashboards import director_counts
        from services.views.outcomes import outcomes_page

        with translation.override(users.language_of(director)):
            outcomes_page(director, organization, {}, now=now, refresh=True)
            director_counts(organization, refresh=True)

    figures.hooks.queue = queue  # type: ignore[method-assign]
    figures.hooks.compute = compute  # type: ignore[method-assign]


class ServicesConfig(AppConfig):
    default = True
    name = "services"
    verbose_name = "Reentry services"

    def ready(self) -> None:
        from django.conf import settings

        # Imported for what they register: the sign-in receivers (the session clocks of
        # services.middleware too: a sign-in before the first request must start them) and the
        # system checks.
        from services import audit, checks, keyring, middleware, signin  # noqa: F401
        from services.lib import crypto

        signin.last_login_at_the_whole_sign_in()
        _connect_figures()
        keyring.install()  # a key writes only once it proved it reads its canary

        if not settings.DEBUG:
            # A server does not run the system checks: refuse to start with unusable keys
            # rather than answer every page that shows an encrypted field with an error.
            crypto.encryption_keys()
            crypto.index_keys()

        # kombu's filesystem transport (the embedded broker when REDIS_URL is unset) does
        # not create its folders; without them the first queued task fails.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
