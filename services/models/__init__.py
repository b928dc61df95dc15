"""The domain's models, one module per domain (see the README's map).

Callers import a model from its own module (`from services.models.people import Exoneree`).
This package only loads every module, so that Django registers all the models, and keeps the
two validators at the path the migrations name them by.
"""

from services.models import (  # noqa: F401 (loaded so that Django registers their models)
    api,
    audit,
    casework,
    consent,
    directory,
    documents,
    enrolments,
    follow_ups,
    legal,
    merges,
    messages,
    needs,
    network,
    notifications,
    organizations,
    outcomes,
    people,
    referrals,
    retention,
    transfers,
)
from services.models.validators import (  # noqa: F401 (migrations)
    validate_past_date,
    validate_sensible_date,
    validate_timezone,
)
