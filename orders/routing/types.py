"""The router's vocabulary: what goes in, what comes out. Plain values, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Method(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class PlanLine:
    """One order line to place: ``index`` is its position in the request."""

    index: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class Candidate:
    """A location that may serve the order, with what it can promise right now."""

    code: str
    latitude: float
    longitude: float
    priority: int = 0
    handling_cost: Decimal = Decimal("0.00")
    available: dict[str, int] = field(default_factory=dict)
    capacity_left: int | None = None  # orders it may still take today; None: no limit
    pickup_enabled: bool = False


@dataclass(frozen=True)
class PlannedLine:
    index: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlannedFulfilment:
    location: str
    method: Method
    lines: tuple[PlannedLine, ...]
    distance_km: float
    cost: Decimal


@dataclass(frozen=True)
class Explanation:
    """Why a location was chosen or rejected (``location`` None: about the plan as a whole)."""

    location: str | None
    outcome: str  # "chosen" | "rejected" | "plan"
    reason: str


@dataclass(frozen=True)
class Plan:
    feasible: bool
    method: Method
    fulfilments: tuple[PlannedFulfilment, ...] = ()
    explanation: tuple[Explanation, ...] = ()
    short_lines: tuple[PlannedLine, ...] = ()  # what no plan could cover (when not feasible)
    alternatives: tuple[str, ...] = ()  # pickup: the nearest stores that have everything
    exact: bool = True  # False when the heuristic decided (too many candidates to search)

    @property
    def total_cost(self) -> Decimal:
        return sum((f.cost for f in self.fulfilments), Decimal("0.00"))


@dataclass(frozen=True)
class PlannerSettings:
    cost_per_km: Decimal = Decimal("0.05")
    max_splits: int = 3  # most fulfilments one order may be split into
    exact_budget: int = 20_000  # subsets the exact search may visit before the heuristic takes over
    alternatives: int = 3  # how many pickup alternatives to name
