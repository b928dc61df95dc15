#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
    # manage.py is the developer's tool, so it defaults to development mode (as
    # cookiecutter-django's manage.py defaults to local settings); the web server (wsgi.py)
    # and Celery default to production. Deployments set DEBUG=0 explicitly (docker-compose,
    # .env.example), which also keeps `seed_demo` refused there.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
