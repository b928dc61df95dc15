"""Export an organization's resource directory as an HSDS 3.0 CSV datapackage (a zip):
`manage.py export_hsds --user DIRECTOR [-o directory-hsds.zip]`.

The same file as the directory page's download, recorded in the access log the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.access import is_director
from services.actions.hsds import hsds_export_record
from services.lib.hsds import write_zip
from services.selectors.hsds import directory_tables


class Command(BaseCommand):
    help = "Export the resource directory of a director's organization as an HSDS 3.0 datapackage (zip)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the username of a director of the organization")
        parser.add_argument("-o", "--output", type=Path, default=Path("directory-hsds.zip"), help="the zip to write")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None or not is_director(user):
            raise CommandError(f"{options['user']} is not an active director: only directors export the directory.")
        tables = directory_tables(user)
        options["output"].write_bytes(write_zip(tables))
        hsds_export_record(by=user)
        self.stdout.write(
            f"{len(tables['organization'])} providers and {len(tables['service'])} resources "
            f"written to {options['output']}."
        )
