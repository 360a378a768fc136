"""Model identity across rounds: model (config) names -> model families, and the reference model.

This week's versions have new names (``atlas-large-2026-04-14``); a declared mapping names the
family each belongs to, so a trend can follow ``atlas-large`` from week to week. Keys of the
mapping are exact model names or `fnmatch` patterns (``{"atlas-large-*": "atlas-large"}``): an
exact name wins, then the first pattern in the mapping's order that matches; an unmapped name is
a family of its own.

The reference model fixes the scale of each round (its rating is the anchor in every bootstrap
resample), which is what makes a change between rounds a number. It is a model name or a family;
a family stands for its one version in the round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import NamedTuple

__all__ = ["Families", "Reference"]


class Reference(NamedTuple):
    """The reference model of one round: its name, or None and why there is none."""

    model: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Families:
    """The declared mapping (see the module docstring)."""

    mapping: Mapping[str, str] = field(default_factory=dict)

    def family(self, model: str) -> str:
        exact = self.mapping.get(model)
        if exact is not None:
            return exact
        for pattern, family in self.mapping.items():
            if fnmatchcase(model, pattern):
                return family
        return model

    def versions(self, family: str, models: Iterable[str]) -> list[str]:
        """The models of ``family`` among ``models``, sorted by name."""
        return sorted(model for model in models if self.family(model) == family)

    def reference(self, reference: str | None, models: Iterable[str], where: str) -> Reference:
        """The model ``reference`` names among ``models`` (those of ``where``, for the reason)."""
        names = sorted(models)
        if reference is None:
            return Reference(None, "no reference model was given")
        if reference in names:
            return Reference(reference)
        versions = self.versions(reference, names)
        if len(versions) == 1:
            return Reference(versions[0])
        if versions:
            return Reference(
                None,
                f"reference {reference!r} has {len(versions)} versions in {where}: {', '.join(versions)}",
            )
        return Reference(None, f"reference {reference!r} is not in {where}")
