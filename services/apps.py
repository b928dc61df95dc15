from pathlib import Path

from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "Reentry services"

    def ready(self) -> None:
        from django.conf import settings

        from services import audit, checks  # noqa: F401 (registers the sign-in receivers and system checks)

        # kombu's filesystem transport (the embedded broker when REDIS_URL is unset) does
        # not create its folders; without them the first queued task fails.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
