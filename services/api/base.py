"""What every endpoint shares: error bodies, validation by the pages' forms, ETags and locks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.crypto import salted_hmac
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, parsers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from services.figures import figures_changed
from services.lifecycle import TransitionNotAllowed

M = TypeVar("M", bound=Model)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deep for Python's parser a 400 like any other
    malformed JSON: the standard library raises RecursionError there (`{"a":` a thousand
    times), which DRF's parser, catching only ValueError, let through as a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None


# Errors: always {"field": ["message", …]}, "detail" for what belongs to no field ------------------


def handle_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, TransitionNotAllowed):  # a conflict with the record's state, not bad input
        return Response({"status": [str(exc), _moves_from_here(exc.allowed)]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationError):
        return Response(_by_field(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}), 400)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": [str(response.data["detail"])]}
    return response


def _moves_from_here(allowed: list[str]) -> str:
    if not allowed:
        return "It cannot move from here: this is where its lifecycle ends."
    return f"It can move from here to: {', '.join(allowed)}."


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    return _by_field(form.errors)


def _by_field(errors: Any) -> dict[str, list[str]]:
    """Django's errors by field, with what belongs to no field ("__all__") under "detail"."""
    return {("detail" if k == "__all__" else k): [str(m) for m in v] for k, v in errors.items()}


class Invalid(exceptions.APIException):
    status_code = 400

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.detail = errors


def valid(form: forms.Form) -> forms.Form:
    """The form, validated; its errors, field by field, as a 400 otherwise."""
    if not form.is_valid():
        raise Invalid(form_errors(form))
    return form


def form_data(data: Any, form: forms.Form) -> MultiValueDict:
    """A JSON body as the page's form reads a posted form, each value judged by what its field
    takes (as the schema says): text, a date or a choice is a JSON string (null: empty); an id
    a whole number, or its digits; a yes-or-no true or false; a field of several values a list
    of those. Anything else is a 400 naming the field, never read as its text: `{"text": false}`
    was a note that said "false". A field the form leaves out from the record's state (a referral's
    `feedback` before it can be completed) is judged too, as the schema lists it; a name the form
    never has is left out, as the form would."""
    if not isinstance(data, dict):
        raise Invalid({"detail": ['Send a JSON object: {"field": value, …}.']})
    errors: dict[str, list[str]] = {}
    plain = MultiValueDict()
    for name, value in data.items():
        field = form.fields.get(name) or form.base_fields.get(name)
        if field is None:
            continue
        kind = _kind(field)
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            items = [] if value is None else value
            if isinstance(items, list) and all(item is not None and kind.takes(item) for item in items):
                plain.setlist(name, [_text(item) for item in items])
            else:
                errors[name] = [kind.list_message]
        elif kind.takes(value):
            plain[name] = _text(value)
        else:
            errors[name] = [kind.message]
    if errors:
        raise Invalid(errors)
    return plain


@dataclass(frozen=True)
class _Kind:
    """What a field takes from JSON, and what a value it does not take is told."""

    takes: Callable[[Any], bool]
    message: str
    list_message: str


_TEXT = _Kind(
    lambda v: v is None or isinstance(v, str),
    "Must be text: a JSON string (or null to leave it empty).",
    "Must be a list of texts (JSON strings).",
)
_ID = _Kind(
    lambda v: v is None or isinstance(v, str | int) and not isinstance(v, bool),
    "Must be a whole number: the record's id.",
    "Must be a list of ids (whole numbers).",
)
_YES_OR_NO = _Kind(
    lambda v: v is None or isinstance(v, bool) or isinstance(v, str) and v.lower() in ("true", "false", ""),
    "Must be true or false.",
    "Must be a list of true or false.",
)


def _kind(field: forms.Field) -> _Kind:
    if isinstance(field, forms.BooleanField):  # NullBooleanField too
        return _YES_OR_NO
    if isinstance(field, forms.ModelChoiceField | forms.IntegerField):  # ModelMultipleChoiceField too
        return _ID
    return _TEXT


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def filled(form: forms.Form, data: Any) -> MultiValueDict:
    """What the caller sent over what the page's form starts with (its initial values, or the
    record's for an update): a field left out keeps the page's default, or the stored value."""
    sent = form_data(data, form)
    merged = MultiValueDict()
    for name in form.fields:
        value = form[name].value()
        if name in sent or value in (None, "", []):
            continue
        if isinstance(value, list | tuple):
            merged.setlist(name, list(value))
        else:
            merged[name] = value
    for name in sent:
        merged.setlist(name, sent.getlist(name))
    return merged


# ETags: two writers cannot silently overwrite each other -------------------------------------------


def etag_of(data: Any) -> str:
    """A keyed hash of the representation (a plain hash of sensitive values could be guessed)."""
    digest = salted_hmac("services.api.etag", json.dumps(data, sort_keys=True, default=str)).hexdigest()
    return f'"{digest[:32]}"'


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send If-Match with the ETag of the version you changed (GET the record first)."


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The record changed since you read it: GET it again, then send your change."


def matching(request: Request, current: str) -> None:
    """Refuse an update without If-Match, or made to another version than the stored one."""
    asked = request.headers.get("If-Match", "")
    if not asked:
        raise PreconditionRequired
    if current not in {tag.strip().removeprefix("W/") for tag in asked.split(",")} and asked.strip() != "*":
        raise PreconditionFailed


def locked(model: type[M], pk: int, organization_id: int, load: Callable[[], M]) -> M:
    """Inside a transaction: the organization row first, then the record's row (the lock order of
    tracked actions), then the record as the caller loads it (through services.access)."""
    figures_changed(organization_id)
    list(model._default_manager.select_for_update(no_key=True).filter(pk=pk).values_list("pk", flat=True))
    return load()


# The schema says which errors each operation can answer, and how they look -------------------------

ERROR_BODY = {
    "type": "object",
    "description": 'Messages by field; what belongs to no field is under "detail".',
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERRORS = {
    400: "The input is not valid: messages by field.",
    401: "No token, or one that is wrong, expired or revoked.",
    403: "Not for your role or your token's scope, or the browser session lacks its second step or CSRF token.",
    404: "No such record among yours.",
    409: "That move is not allowed from the record's current state: why, then the moves allowed from there.",
    412: "The record changed since you read it (If-Match is not its ETag).",
    428: "Send If-Match with the record's ETag.",
    429: "Too many requests for this token: wait, then try again.",
}

ACTIONS = ("/status/", "/transition/", "/done/", "/reopen/", "/revoke/")  # each checks an If-Match sent
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "description": "The ETag of the version read (GET the record): the change applies to that version only.",
    "schema": {"type": "string"},
}


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook: every operation lists the errors it can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_BODY
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = [400, 401, 403, 429]
            if "{" in path or any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
                codes.append(404)  # a record not among yours, or a cursor that names no page
            if path.endswith(("/transition/", "/status/")):
                codes.append(409)  # a lifecycle move: a referral's, or a need's
            if method in ("put", "patch"):
                codes += [412, 428]
                operation.setdefault("parameters", []).append({**IF_MATCH, "required": True})
            elif method == "post" and path.endswith(ACTIONS):
                codes.append(412)  # an action may send If-Match too (a new record has no version)
                operation.setdefault("parameters", []).append({**IF_MATCH, "required": False})
            for code in codes:
                operation["responses"].setdefault(
                    str(code),
                    {
                        "description": ERRORS[code],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
