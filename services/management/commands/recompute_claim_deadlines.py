"""Compute every compensation claim's filing deadline again from the rules table:
`manage.py recompute_claim_deadlines`.

Run it after correcting a row of services/data/compensation_rules.yaml: each claim's deadline,
the rule it came from and its warnings follow the corrected rule. A deadline a lawyer set on a
claim stays as it is. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from services.actions.legal import claims_recompute


class Command(BaseCommand):
    help = "Compute compensation claims' filing deadlines again from the rules table (after a rule was corrected)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, help="only the claims of the organization with this id")

    def handle(self, *args: Any, **options: Any) -> None:
        changed = claims_recompute(organization_id=options["organization"])
        self.stdout.write(f"{changed} claim deadline{'s' if changed != 1 else ''} changed.")
