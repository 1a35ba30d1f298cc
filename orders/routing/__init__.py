"""Distributed order management: which locations fulfil an order, and why."""

from orders.routing.planner import plan_fulfilment
from orders.routing.service import plan_order
from orders.routing.types import (
    Candidate,
    Explanation,
    Method,
    Plan,
    PlanLine,
    PlannedFulfilment,
    PlannedLine,
    PlannerSettings,
    Point,
)

__all__ = [
    "Candidate",
    "Explanation",
    "Method",
    "Plan",
    "PlanLine",
    "PlannedFulfilment",
    "PlannedLine",
    "PlannerSettings",
    "Point",
    "plan_fulfilment",
    "plan_order",
]
