"""The planner against an independent brute force on random small networks (hypothesis).

The brute force tries every set of up to ``max_splits`` candidates with capacity left, keeps
those whose pooled availability covers every SKU, and takes the smallest, then cheapest, then
highest-priority, then first by codes. Costs are computed here from the documented rule:
handling cost + cost per km × distance (to the metre), rounded half-up to the cent, per
location. With a tiny ``exact_budget`` the planner falls back to its heuristic: the plan may
then be worse, but it must still be valid.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations
from math import asin, cos, radians, sin, sqrt

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.routing import (
    Candidate,
    Method,
    Plan,
    PlanLine,
    PlannerSettings,
    Point,
    plan_fulfilment,
)

SKUS = ["A", "B", "C", "D", "E"]
# A few fixed points around Amsterdam, so that equal distances (and so cost ties) happen often.
PLACES = [
    (52.3705, 4.8915),
    (52.3975, 4.8090),
    (52.2860, 4.7570),
    (52.3860, 5.2440),
    (52.5045, 4.9590),
]


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine, written again here so the check does not share the planner's helper."""
    lat1, lng1, lat2, lng2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0088 * asin(min(1.0, sqrt(h)))


def location_cost(c: Candidate, destination: Point, per_km: Decimal) -> Decimal:
    metres = Decimal(str(round(km((c.latitude, c.longitude), destination_tuple(destination)), 3)))
    return (c.handling_cost + per_km * metres).quantize(Decimal("0.01"), ROUND_HALF_UP)


def destination_tuple(p: Point) -> tuple[float, float]:
    return (p.latitude, p.longitude)


def brute_force(lines, candidates, destination, config: PlannerSettings):
    """``(codes, cost)`` of the best plan, or None when no set of up to max_splits serves."""
    demand = Counter()
    for line in lines:
        demand[line.sku] += line.quantity
    open_ = [c for c in candidates if c.capacity_left is None or c.capacity_left > 0]
    costs = {c.code: location_cost(c, destination, config.cost_per_km) for c in open_}
    for size in range(1, config.max_splits + 1):
        best = None
        for group in combinations(open_, size):
            if all(sum(c.available.get(s, 0) for c in group) >= q for s, q in demand.items()):
                key = (
                    sum(costs[c.code] for c in group),
                    -sum(c.priority for c in group),
                    tuple(sorted(c.code for c in group)),
                )
                best = key if best is None or key < best else best
        if best is not None:
            return best[2], best[0]
    return None


def assert_valid(plan: Plan, lines, candidates, config: PlannerSettings) -> None:
    """Every line exactly covered, nothing over ``available``, every chosen location ships."""
    by_code = {c.code: c for c in candidates}
    assert plan.feasible
    assert 1 <= len(plan.fulfilments) <= config.max_splits
    assert len({f.location for f in plan.fulfilments}) == len(plan.fulfilments)
    covered = Counter()
    for f in plan.fulfilments:
        candidate = by_code[f.location]
        assert candidate.capacity_left is None or candidate.capacity_left > 0
        assert f.lines, f"{f.location} ships nothing"
        taken = Counter()
        for planned in f.lines:
            assert planned.quantity > 0
            assert planned.sku == lines[planned.index].sku
            taken[planned.sku] += planned.quantity
            covered[planned.index] += planned.quantity
        for sku, qty in taken.items():
            assert qty <= candidate.available.get(sku, 0), (f.location, sku)
    assert covered == Counter({line.index: line.quantity for line in lines})


@st.composite
def networks(draw):
    n_lines = draw(st.integers(min_value=1, max_value=5))
    lines = [
        PlanLine(i, draw(st.sampled_from(SKUS[:4])), draw(st.integers(min_value=1, max_value=4)))
        for i in range(n_lines)
    ]
    candidates = []
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        lat, lng = draw(st.sampled_from(PLACES))
        candidates.append(
            Candidate(
                code=f"L{i}",
                latitude=lat + draw(st.sampled_from([0.0, 0.0, 0.01, -0.02])),
                longitude=lng,
                priority=draw(st.integers(min_value=0, max_value=2)),
                handling_cost=Decimal(draw(st.sampled_from([0, 0, 50, 125, 300]))) / 100,
                available={
                    sku: qty for sku in SKUS if (qty := draw(st.integers(min_value=0, max_value=4)))
                },
                capacity_left=draw(st.sampled_from([None, None, None, 0, 1, 5])),
            )
        )
    destination = Point(*draw(st.sampled_from(PLACES)))
    config = PlannerSettings(
        cost_per_km=Decimal(draw(st.sampled_from(["0.05", "0.10", "0.00"]))),
        max_splits=draw(st.integers(min_value=1, max_value=4)),
    )
    return lines, candidates, destination, config


@settings(max_examples=500, deadline=None)
@given(network=networks(), order=st.randoms())
def test_the_planner_agrees_with_brute_force(network, order):
    lines, candidates, destination, config = network
    shuffled = list(candidates)
    order.shuffle(shuffled)

    plan = plan_fulfilment(
        lines=lines, candidates=shuffled, method=Method.SHIP, destination=destination,
        settings=config,
    )  # fmt: skip
    best = brute_force(lines, candidates, destination, config)

    assert plan.exact  # eight candidates are always within the default budget
    if best is None:
        assert not plan.feasible
        assert plan.fulfilments == ()
        return
    codes, cost = best
    assert plan.feasible
    assert len(plan.fulfilments) == len(codes)
    assert plan.total_cost == cost
    assert tuple(sorted(f.location for f in plan.fulfilments)) == codes
    assert_valid(plan, lines, candidates, config)


@settings(max_examples=500, deadline=None)
@given(network=networks(), order=st.randoms())
def test_the_heuristic_is_valid_though_maybe_not_optimal(network, order):
    lines, candidates, destination, config = network
    config = PlannerSettings(
        cost_per_km=config.cost_per_km, max_splits=config.max_splits, exact_budget=1
    )
    shuffled = list(candidates)
    order.shuffle(shuffled)

    plan = plan_fulfilment(
        lines=lines, candidates=shuffled, method=Method.SHIP, destination=destination,
        settings=config,
    )  # fmt: skip
    best = brute_force(lines, candidates, destination, config)

    if best is None:
        assert not plan.feasible
        return
    codes, cost = best
    assert plan.feasible
    assert_valid(plan, lines, candidates, config)
    assert len(plan.fulfilments) >= len(codes)
    if len(plan.fulfilments) == len(codes):
        assert plan.total_cost >= cost
    # Deterministic here too: the same network in another order gives the same plan.
    again = plan_fulfilment(
        lines=lines, candidates=candidates, method=Method.SHIP, destination=destination,
        settings=config,
    )  # fmt: skip
    assert again == plan
