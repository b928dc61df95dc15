"""The base of every model."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.encoding import force_str


class BaseModel(models.Model):
    """The base of our models: `get_<field>_display()` translates one label, not all of them.

    Django's own builds a dict of every choice on each call, and hashing a lazy label
    translates it: a page showing 60 statuses translated 500 labels (bench/README.md).
    """

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field) -> Any:  # noqa: N802 (Django's name)
        labels = field.__dict__.get("_labels_by_value")
        if labels is None:
            labels = field.__dict__["_labels_by_value"] = dict(field.flatchoices)
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, value)
        except TypeError:  # an unhashable value: Django's way
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)
