import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")

application = get_wsgi_application()

# A server runs no system checks: refuse to start (gunicorn's worker fails to boot) with keys
# that cannot read the key canaries, and write them on the very first start.
from services.keyring import keys_verify  # noqa: E402 (needs the apps loaded above)

keys_verify()
