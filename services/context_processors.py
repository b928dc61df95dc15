from typing import Any

from django.http import HttpRequest

from services import access


def role(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's role, for the navigation."""
    return {"role": access.role_of(request.user) if hasattr(request, "user") else None}
