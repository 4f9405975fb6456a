"""Rows that are written once and never changed: the ticket timeline, the audit log.

The model and its queryset refuse every update and delete the ORM offers, with the model's own
words (``REFUSAL``, and ``DELETE_REFUSAL`` when deleting has more to say). A model that allows
one narrow change (a redaction's scrub) or one deletion (a retention purge) writes it past the
guard on purpose, through ``models.QuerySet`` itself."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[M]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError(_refusal(self.model, delete=False))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(_refusal(self.model, delete=True))


class AppendOnlyModel(models.Model):
    REFUSAL: ClassVar[str] = "These rows are append-only."
    DELETE_REFUSAL: ClassVar[str] = ""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError(self.REFUSAL)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(self.DELETE_REFUSAL or self.REFUSAL)


def _refusal(model: type[models.Model], *, delete: bool) -> str:
    refusal: str = getattr(model, "REFUSAL", AppendOnlyModel.REFUSAL)
    return (getattr(model, "DELETE_REFUSAL", "") or refusal) if delete else refusal
