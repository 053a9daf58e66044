"""What the table writers of `generate_scale` share: the sizes, the clock, the random source and the ids
each writer hands on to the next (communities to units, units to needs, …)."""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db import models

from .rows import copy_rows
from .words import Gen


@dataclass(frozen=True)
class Scale:
    """Row counts of the whole load. Communities have 9 per street (the "1+9+N" model); the rest is
    spread over them with a skew (see `World.community_weight`)."""

    name: str
    streets: int
    units: int
    party_members: int
    needs: int
    service_logs: int
    communities_per_street: int = 9
    # Per street unless said otherwise.
    projects_per_street: int = 36
    # Per unit: the seeds' 313 resources of 123 units (Caiyuan), 118 projects claimed by 48 units (Wujiaochang).
    resources_per_unit: float = 2.6
    claims_per_unit: float = 2.1
    activities_per_claim: float = 3.8
    posts_per_community: int = 6
    teams_per_community: float = 1.5
    consultations_per_community: int = 2
    # Party members with a portal account (the rest registered on paper or by staff).
    member_accounts: int = 500


# Sizes from the issue and GLOSSARY.md (Qindu district: 9 streets, 81 communities, 1,155 unit Party
# organisations, 45,991 Party members); a street is one ninth of the district.
SCALES: dict[str, Scale] = {
    "tiny": Scale(
        "tiny",
        streets=2,
        communities_per_street=3,
        units=40,
        party_members=400,
        needs=600,
        service_logs=2_000,
        projects_per_street=5,
        posts_per_community=2,
        member_accounts=20,
    ),
    "street": Scale("street", streets=1, units=128, party_members=5_111, needs=5_556, service_logs=22_222),
    "district": Scale("district", streets=9, units=1_155, party_members=46_000, needs=50_000, service_logs=200_000),
    "city": Scale(
        "city",
        streets=90,
        units=11_550,
        party_members=1_000_000,
        needs=1_000_000,
        service_logs=5_000_000,
        member_accounts=5_000,
    ),
}


class Picker:
    """Weighted choice from a fixed population, many times: the cumulative weights are computed once."""

    def __init__(self, rng, values: Sequence, weights: Sequence[float]) -> None:
        self.rng, self.values = rng, list(values)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def one(self):
        return self.values[bisect.bisect(self.cum, self.rng.random() * self.total, hi=len(self.cum) - 1)]

    def many(self, k: int) -> list:
        return self.rng.choices(self.values, cum_weights=self.cum, k=k)


@dataclass
class World:
    scale: Scale
    g: Gen
    now: datetime
    log: Callable[[str], None]
    # Two years of the alliance's life, up to `now`.
    days: int = 730
    loaded: list[type[models.Model]] = field(default_factory=list)

    category_picker: Picker | None = None
    password: str = "!"
    staff: int = 0
    streets: list[int] = field(default_factory=list)
    communities: list[int] = field(default_factory=list)
    community_street: dict[int, int] = field(default_factory=dict)
    community_weight: dict[int, float] = field(default_factory=dict)
    community_picker: Picker | None = None
    community_staff: dict[int, int] = field(default_factory=dict)
    sectors: dict[int, dict[str, int]] = field(default_factory=dict)
    unit_community: dict[int, int] = field(default_factory=dict)
    unit_sector: dict[int, int] = field(default_factory=dict)
    active_units: list[int] = field(default_factory=list)
    units_by_community: dict[int, list[int]] = field(default_factory=dict)
    units_by_street: dict[int, list[int]] = field(default_factory=dict)
    liaison: dict[int, int] = field(default_factory=dict)
    member_users: list[int] = field(default_factory=list)
    resources_by_unit: dict[int, list[int]] = field(default_factory=dict)
    wishes: list[int] = field(default_factory=list)
    # A few closed needs per street, for projects to link to.
    needs_by_street: dict[int, list[int]] = field(default_factory=dict)
    activities_by_street: dict[int, list[int]] = field(default_factory=dict)

    @property
    def rng(self):
        return self.g.rng

    @cached_property
    def start(self) -> datetime:
        return self.now - timedelta(days=self.days)

    @property
    def today(self) -> date:
        return self.now.date()

    def copy(self, label: str, model: type[models.Model], fields: str, rows: Iterable[Sequence[object]]) -> int:
        """COPY `rows` into `model`; `fields` is a space-separated list of field names."""
        began = time.monotonic()
        count = copy_rows(model, fields.split(), rows)
        self.loaded.append(model)
        self.log(f"  {label}: {count:,} rows in {time.monotonic() - began:.1f} s")
        return count

    def moment(self, newer: float = 1.0) -> datetime:
        """A moment in the two years; `newer` > 1 leans toward the recent (the platform grows)."""
        return self.start + timedelta(seconds=self.days * 86_400 * self.rng.random() ** (1 / newer))

    def later(self, moment: datetime, low_h: float, high_h: float) -> datetime:
        return min(moment + timedelta(hours=self.rng.uniform(low_h, high_h)), self.now)

    def street_of_unit(self, unit: int) -> int:
        return self.community_street[self.unit_community[unit]]

    def unit_near(self, community: int) -> int:
        """An active unit of the community, or of its street when the community has none."""
        pool = self.units_by_community.get(community) or self.units_by_street[self.community_street[community]]
        return self.rng.choice(pool)
