"""The fulfilment planner (DESIGN.md, "Fulfilment (the DOM)"): a pure function.

Given order lines and candidate locations with their available-to-promise, choose the set of
locations that serves the order with, in this order of importance:

1. the fewest shipments;
2. then the lowest cost: per-location handling cost + cost per km × distance to the
   destination;
3. then the highest location priority (sum over the chosen set);
4. then location codes, so that the same input always gives the same plan.

A set of locations can serve the order exactly when, for every SKU, what the set can promise
adds up to what is ordered (each location promises per SKU independently). So the search is
over sets, smallest first: with one location it is a scan; with more, every subset of the
useful candidates is tried while their number stays within ``exact_budget``, and above that a
greedy cover decides (restarted from other first picks when it runs into ``max_splits``),
followed by swaps that lower the rank and drops of locations the set no longer needs
(``Plan.exact`` is False). Units are assigned within the chosen set cheapest location first;
because no location can be left out of the chosen set, every chosen location ships something.

Every candidate is explained: chosen, or rejected with a reason. When no plan exists,
``short_lines`` says what is missing: what the whole network lacks or, when the network has
enough but not within ``max_splits`` locations, what the best-covering set of that many
locations still lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import combinations
from math import comb

from config.money import to_cents
from inventory.geo import distance_km
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

DEFAULT_SETTINGS = PlannerSettings()


def plan_fulfilment(
    *,
    lines: Sequence[PlanLine],
    candidates: Sequence[Candidate],
    method: Method = Method.SHIP,
    destination: Point | None = None,
    pickup_location: str | None = None,
    settings: PlannerSettings = DEFAULT_SETTINGS,
) -> Plan:
    """Plan ``lines`` over ``candidates``. Never promises more than a candidate's
    ``available``; excludes candidates with no capacity left. Deterministic."""
    demand = _demand(lines)
    if method == Method.PICKUP:
        return _plan_pickup(lines, demand, candidates, pickup_location, destination, settings)
    return _plan_ship(lines, demand, candidates, destination, settings)


def _demand(lines: Sequence[PlanLine]) -> dict[str, int]:
    demand: dict[str, int] = {}
    for line in lines:
        demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    return demand


def _covers(candidate: Candidate, demand: dict[str, int]) -> bool:
    return all(candidate.available.get(sku, 0) >= qty for sku, qty in demand.items())


# --- Pickup: the chosen store or nothing --------------------------------------------------


def _plan_pickup(lines, demand, candidates, pickup_location, destination, settings) -> Plan:
    store = next((c for c in candidates if c.code == pickup_location), None)
    others = sorted((c for c in candidates if c is not store), key=lambda c: c.code)
    if store is not None and store.pickup_enabled and _covers(store, demand):
        fulfilment = PlannedFulfilment(
            location=store.code,
            method=Method.PICKUP,
            lines=tuple(PlannedLine(line.index, line.sku, line.quantity) for line in lines),
            distance_km=0.0,
            cost=to_cents(store.handling_cost),
        )
        explanation = [
            Explanation(store.code, "chosen", "the chosen pickup store has every line"),
            *(Explanation(c.code, "rejected", "not the chosen pickup store") for c in others),
        ]
        return Plan(True, Method.PICKUP, (fulfilment,), tuple(explanation))
    if store is None or not store.pickup_enabled:
        reason = "not a store that offers pickup"
        short = tuple(PlannedLine(line.index, line.sku, line.quantity) for line in lines)
    else:
        reason = "does not have every line"
        short = _short_lines(lines, [store])
    origin = Point(store.latitude, store.longitude) if store else destination
    alternatives = _pickup_alternatives(demand, others, origin, settings)
    explanation = [Explanation(pickup_location, "rejected", reason)]
    if alternatives:
        explanation.append(
            Explanation(None, "plan", "stores that have everything: " + ", ".join(alternatives))
        )
    for c in others:
        why = "not the chosen pickup store"
        if c.code in alternatives:
            why += "; has every line (named as an alternative)"
        explanation.append(Explanation(c.code, "rejected", why))
    return Plan(False, Method.PICKUP, (), tuple(explanation), short, tuple(alternatives))


def _pickup_alternatives(demand, others, origin, settings) -> list[str]:
    """The nearest pickup stores (to the chosen store, else to the destination) that have
    every line."""
    ready = [c for c in others if c.pickup_enabled and _covers(c, demand)]
    ready.sort(key=lambda c: (_distance(c, origin), c.code))
    return [c.code for c in ready[: settings.alternatives]]


# --- Ship: the fewest, cheapest shipments -------------------------------------------------


def _plan_ship(lines, demand, candidates, destination, settings) -> Plan:
    rejected: list[Explanation] = []
    useful: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: c.code):
        if c.capacity_left is not None and c.capacity_left <= 0:
            rejected.append(
                Explanation(c.code, "rejected", "no ship-from-store capacity left today")
            )
        elif not any(c.available.get(sku, 0) > 0 for sku in demand):
            rejected.append(Explanation(c.code, "rejected", "has none of the ordered SKUs"))
        else:
            useful.append(c)
    costs = {c.code: _cost(c, destination, settings) for c in useful}
    chosen, exact = _search(demand, useful, costs, settings)
    if chosen is None:
        return _no_plan(lines, demand, useful, costs, rejected, exact, settings)
    fulfilments = _assign(lines, chosen, costs, destination)
    explanation = _explain(chosen, useful, costs, demand, exact) + rejected
    return Plan(True, Method.SHIP, fulfilments, tuple(explanation), exact=exact)


def _no_plan(lines, demand, useful, costs, rejected, exact, settings) -> Plan:
    """Nothing serves the order: say what is missing and why each candidate did not help."""
    if not _feasible(useful, demand):
        short = _short_lines(lines, useful)
        summary = "the candidates together do not have every line"
        why = "has some of the lines, but even all candidates together fall short"
    else:
        best = _greedy(demand, useful, costs, settings.max_splits)
        short = _short_lines(lines, best)
        splits = settings.max_splits
        if exact:
            summary = (
                f"no set of up to {splits} location(s) can serve every line; more would be needed"
            )
            why = f"no set of up to {splits} location(s) with it has every line"
        else:
            summary = (
                f"the heuristic found no set of up to {splits} location(s) that serves every "
                "line (too many candidates to search every set)"
            )
            why = f"not in any set of up to {splits} location(s) the heuristic found"
    notes = [Explanation(None, "plan", summary)]
    notes += [Explanation(c.code, "rejected", why) for c in useful]
    return Plan(False, Method.SHIP, (), (*notes, *rejected), short, exact=exact)


def _distance(candidate: Candidate, destination: Point | None) -> float:
    if destination is None:
        return 0.0
    return distance_km(
        destination.latitude, destination.longitude, candidate.latitude, candidate.longitude
    )


def _cost(candidate: Candidate, destination: Point | None, settings: PlannerSettings) -> Decimal:
    km = Decimal(str(round(_distance(candidate, destination), 3)))
    return to_cents(candidate.handling_cost + settings.cost_per_km * km)


def _rank(locations: Iterable[Candidate], costs: dict[str, Decimal]) -> tuple:
    """The objective after the number of shipments: cost, then priority, then codes."""
    chosen = list(locations)
    return (
        sum(costs[c.code] for c in chosen),
        -sum(c.priority for c in chosen),
        tuple(sorted(c.code for c in chosen)),
    )


def _feasible(group: Sequence[Candidate], demand: dict[str, int]) -> bool:
    return all(sum(c.available.get(sku, 0) for c in group) >= qty for sku, qty in demand.items())


def _search(demand, useful, costs, settings) -> tuple[list[Candidate] | None, bool]:
    """The smallest feasible set with the best rank; exact while the budget allows."""
    singles = [c for c in useful if _covers(c, demand)]
    if singles:
        return [min(singles, key=lambda c: _rank([c], costs))], True
    if not _feasible(useful, demand):
        return None, True
    n = len(useful)
    # Which ordered SKUs each candidate has any of, as bits: a set whose bits do not add up to
    # every SKU cannot be feasible, and telling so is far cheaper than adding up quantities.
    skus = list(demand)
    masks = [sum(1 << i for i, sku in enumerate(skus) if c.available.get(sku, 0)) for c in useful]
    every = (1 << len(skus)) - 1
    for size in range(2, min(settings.max_splits, n) + 1):
        if comb(n, size) > settings.exact_budget:
            return _heuristic(demand, useful, costs, settings), False
        feasible = [
            group
            for indices in combinations(range(n), size)
            if _union(masks, indices) == every
            and _feasible(group := [useful[i] for i in indices], demand)
        ]
        if feasible:
            return min(feasible, key=lambda group: _rank(group, costs)), True
    return None, True


def _union(masks: list[int], indices: tuple[int, ...]) -> int:
    bits = 0
    for i in indices:
        bits |= masks[i]
    return bits


RESTARTS = 16  # other first picks the heuristic tries when its greedy cover runs out of splits


def _heuristic(demand, useful, costs, settings) -> list[Candidate] | None:
    """Greedy cover (most missing units first, then better rank); if that needs more than
    ``max_splits`` locations, greedy again from each of the next best first picks. Then swap
    a chosen location for any other that keeps the set feasible and ranks better, and drop
    any location the set no longer needs, until nothing improves."""
    chosen = _greedy(demand, useful, costs, settings.max_splits, complete=True)
    if chosen is None:
        ranked = _by_coverage(demand, useful, costs)
        tries = (
            _greedy(demand, useful, costs, settings.max_splits, first=c, complete=True)
            for c in ranked[1 : RESTARTS + 1]
        )
        found = [group for group in tries if group is not None]
        if not found:
            return None
        chosen = min(found, key=lambda group: (len(group), _rank(group, costs)))
    chosen = _drop_unneeded(chosen, demand, costs)
    improved = True
    while improved:
        improved = False
        for i in range(len(chosen)):
            for other in useful:
                if other in chosen:
                    continue
                trial = [*chosen[:i], other, *chosen[i + 1 :]]
                if _feasible(trial, demand) and _rank(trial, costs) < _rank(chosen, costs):
                    chosen, improved = _drop_unneeded(trial, demand, costs), True
                    break
            if improved:
                break
    return chosen


def _coverage(candidate: Candidate, missing: dict[str, int]) -> int:
    return sum(min(candidate.available.get(s, 0), q) for s, q in missing.items() if q)


def _by_coverage(demand, useful, costs) -> list[Candidate]:
    return sorted(useful, key=lambda c: (-_coverage(c, demand), _rank([c], costs)))


def _greedy(demand, useful, costs, limit, *, first=None, complete=False) -> list[Candidate] | None:
    """Up to ``limit`` locations, each the one covering most of what is still missing (then
    the better rank), starting from ``first`` when given. With ``complete``, None unless
    they cover everything; without, the locations picked (to tell what stays short)."""
    chosen: list[Candidate] = []
    missing = dict(demand)
    while any(missing.values()) and len(chosen) < limit:
        if first is not None and not chosen:
            best = first
        else:
            best = min(
                (c for c in useful if c not in chosen),
                key=lambda c: (-_coverage(c, missing), _rank([c], costs)),
                default=None,
            )
        if best is None or not _coverage(best, missing):
            break
        chosen.append(best)
        for sku, qty in missing.items():
            missing[sku] = max(0, qty - best.available.get(sku, 0))
    if complete and any(missing.values()):
        return None
    return chosen


def _drop_unneeded(chosen: list[Candidate], demand, costs) -> list[Candidate]:
    """Leave out locations the rest can do without, the one whose absence ranks best first."""
    while len(chosen) > 1:
        rests = [
            rest for c in chosen if _feasible(rest := [o for o in chosen if o is not c], demand)
        ]
        if not rests:
            break
        chosen = min(rests, key=lambda rest: _rank(rest, costs))
    return chosen


def _assign(lines, chosen, costs, destination) -> tuple[PlannedFulfilment, ...]:
    """Units of each line from the cheapest chosen location that still has them."""
    order = sorted(chosen, key=lambda c: (costs[c.code], -c.priority, c.code))
    left = {c.code: dict(c.available) for c in order}
    planned: dict[str, list[PlannedLine]] = {c.code: [] for c in order}
    for line in lines:
        need = line.quantity
        for c in order:
            take = min(need, left[c.code].get(line.sku, 0))
            if take:
                planned[c.code].append(PlannedLine(line.index, line.sku, take))
                left[c.code][line.sku] -= take
                need -= take
            if not need:
                break
    return tuple(
        PlannedFulfilment(
            location=c.code,
            method=Method.SHIP,
            lines=tuple(planned[c.code]),
            distance_km=round(_distance(c, destination), 3),
            cost=costs[c.code],
        )
        for c in order
        if planned[c.code]
    )


def _explain(chosen, useful, costs, demand, exact) -> list[Explanation]:
    codes = {c.code for c in chosen}
    total = sum(costs[c] for c in codes)
    how = "optimal" if exact else "heuristic (too many candidates to search every set)"
    notes = [
        Explanation(None, "plan", f"{len(chosen)} shipment(s), cost {total}; {how}"),
        *(
            Explanation(c.code, "chosen", f"cost {costs[c.code]} (priority {c.priority})")
            for c in sorted(chosen, key=lambda c: c.code)
        ),
    ]
    for c in useful:
        if c.code in codes:
            continue
        if _covers(c, demand):  # then one shipment serves the order, so ``chosen`` is one
            reason = _why_not_single(c, chosen[0], costs)
        elif len(chosen) == 1:
            reason = "cannot serve every line alone, and one shipment is enough"
        elif not exact:
            reason = "not in the best set the heuristic found"
        else:
            reason = (
                f"every set of {len(chosen)} with it misses a line or costs more than {total} "
                "(or as much, with lower priority or a later code)"
            )
        notes.append(Explanation(c.code, "rejected", reason))
    return notes


def _why_not_single(c: Candidate, winner: Candidate, costs) -> str:
    cost, best = costs[c.code], costs[winner.code]
    if cost > best:
        return f"has every line but costs {cost}, more than {best}"
    if c.priority < winner.priority:
        return (
            f"has every line at the same cost {cost}, but priority {c.priority} < {winner.priority}"
        )
    return f"has every line at the same cost and priority; {winner.code} comes first by code"


def _short_lines(lines, locations: Sequence[Candidate]) -> tuple[PlannedLine, ...]:
    """Lines (with the missing quantity) that the given locations together cannot cover."""
    pooled: dict[str, int] = {}
    for c in locations:
        for sku, qty in c.available.items():
            pooled[sku] = pooled.get(sku, 0) + qty
    short = []
    for line in lines:
        have = pooled.get(line.sku, 0)
        taken = min(have, line.quantity)
        pooled[line.sku] = have - taken
        if taken < line.quantity:
            short.append(PlannedLine(line.index, line.sku, line.quantity - taken))
    return tuple(short)
