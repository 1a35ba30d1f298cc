"""The fulfilment planner as a pure function: no database. Each network is built around a
destination at the Dam; a candidate ``km`` kilometres north of it is exactly that far (to the
metre), so costs can be asserted to the cent: handling + 0.05 × km by default."""

from __future__ import annotations

import random
from decimal import Decimal
from math import pi

from orders.routing import (
    Candidate,
    Method,
    Plan,
    PlanLine,
    PlannedFulfilment,
    PlannedLine,
    PlannerSettings,
    Point,
    plan_fulfilment,
)

DAM = Point(52.3730, 4.8930)
DEG_PER_KM = 180 / (pi * 6371.0088)  # along a meridian, the haversine is exact


def loc(code, km=0.0, *, handling="0.00", priority=0, capacity=None, pickup=False, **stock):
    """A candidate ``km`` north of the Dam (negative: south) with ``stock`` as available."""
    return Candidate(
        code=code,
        latitude=DAM.latitude + km * DEG_PER_KM,
        longitude=DAM.longitude,
        priority=priority,
        handling_cost=Decimal(handling),
        available=stock,
        capacity_left=capacity,
        pickup_enabled=pickup,
    )


def order(*quantities: tuple[str, int]) -> list[PlanLine]:
    return [PlanLine(i, sku, qty) for i, (sku, qty) in enumerate(quantities)]


def ship(lines, candidates, **settings) -> Plan:
    return plan_fulfilment(
        lines=lines,
        candidates=candidates,
        method=Method.SHIP,
        destination=DAM,
        settings=PlannerSettings(**settings),
    )


def pickup(lines, candidates, store, **settings) -> Plan:
    return plan_fulfilment(
        lines=lines,
        candidates=candidates,
        method=Method.PICKUP,
        pickup_location=store,
        settings=PlannerSettings(**settings),
    )


def shipped(plan: Plan) -> dict[str, list[tuple[int, str, int]]]:
    """``{location: [(line index, sku, quantity), ...]}``: the plan at a glance."""
    return {
        f.location: [(pl.index, pl.sku, pl.quantity) for pl in f.lines] for f in plan.fulfilments
    }


def reasons(plan: Plan) -> dict[str | None, tuple[str, str]]:
    notes = {}
    for note in plan.explanation:
        if note.location is not None:
            assert note.location not in notes, f"{note.location} explained twice"
            notes[note.location] = (note.outcome, note.reason)
    return notes


def summary(plan: Plan) -> list[str]:
    return [note.reason for note in plan.explanation if note.location is None]


# --- Fewest shipments first -----------------------------------------------------------------


def test_one_farther_location_beats_a_greedy_split_by_priority():
    """Filling lines from the highest-priority (and nearest) stores first would take two
    shipments; one warehouse 80 km away has everything, so it is one shipment."""
    lines = order(("TEE", 1), ("CAP", 1), ("SOCK", 2))
    candidates = [
        loc("STORE-NEAR", 1, priority=10, TEE=5, CAP=5),
        loc("STORE-OTHER", 2, priority=9, SOCK=5),
        loc("WH-FAR", 80, handling="1.50", priority=0, TEE=9, CAP=9, SOCK=9),
    ]

    plan = ship(lines, candidates)

    assert plan.feasible
    assert plan.exact
    assert plan.fulfilments == (
        PlannedFulfilment(
            location="WH-FAR",
            method=Method.SHIP,
            lines=(PlannedLine(0, "TEE", 1), PlannedLine(1, "CAP", 1), PlannedLine(2, "SOCK", 2)),
            distance_km=80.0,
            cost=Decimal("5.50"),  # 1.50 + 0.05 × 80
        ),
    )
    assert plan.total_cost == Decimal("5.50")
    assert reasons(plan) == {
        "WH-FAR": ("chosen", "cost 5.50 (priority 0)"),
        "STORE-NEAR": ("rejected", "cannot serve every line alone, and one shipment is enough"),
        "STORE-OTHER": ("rejected", "cannot serve every line alone, and one shipment is enough"),
    }
    assert summary(plan) == ["1 shipment(s), cost 5.50; optimal"]


def test_fewest_shipments_wins_over_a_cheaper_split():
    lines = order(("A", 1), ("B", 1))
    candidates = [loc("CHEAP-A", 0, A=1), loc("CHEAP-B", 0, B=1), loc("DEAR", 100, A=1, B=1)]

    plan = ship(lines, candidates)

    assert shipped(plan) == {"DEAR": [(0, "A", 1), (1, "B", 1)]}
    assert plan.total_cost == Decimal("5.00")


# --- Then cost --------------------------------------------------------------------------------


def test_cost_decides_between_two_single_location_plans():
    lines = order(("A", 2))
    near_but_dear = loc("NEAR", 10, handling="2.00", A=5)  # 2.00 + 0.50 = 2.50
    far_but_cheap = loc("FAR", 30, handling="0.40", A=5)  # 0.40 + 1.50 = 1.90

    plan = ship(lines, [near_but_dear, far_but_cheap])

    assert shipped(plan) == {"FAR": [(0, "A", 2)]}
    assert plan.fulfilments[0].distance_km == 30.0
    assert plan.fulfilments[0].cost == Decimal("1.90")
    assert reasons(plan)["NEAR"] == ("rejected", "has every line but costs 2.50, more than 1.90")


def test_distance_decides_when_handling_costs_are_equal_and_per_km_cost_counts():
    lines = order(("A", 1))
    candidates = [loc("SOUTH", -12, handling="1.00", A=1), loc("NORTH", 5, handling="1.00", A=1)]

    assert shipped(ship(lines, candidates)) == {"NORTH": [(0, "A", 1)]}
    # With distance free, both cost 1.00 and the code decides (no priority either).
    free = ship(lines, candidates, cost_per_km=Decimal("0"))
    assert shipped(free) == {"NORTH": [(0, "A", 1)]}
    assert free.total_cost == Decimal("1.00")


def test_cost_decides_between_two_splits():
    lines = order(("A", 1), ("B", 1))
    candidates = [
        loc("A-NEAR", 2, A=1),
        loc("A-FAR", 40, A=1),
        loc("B-NEAR", 4, handling="3.00", B=1),  # 3.20
        loc("B-FAR", 20, handling="0.50", B=1),  # 1.50
    ]

    plan = ship(lines, candidates)

    assert shipped(plan) == {"A-NEAR": [(0, "A", 1)], "B-FAR": [(1, "B", 1)]}
    assert plan.total_cost == Decimal("1.60")  # 0.10 + 1.50
    assert reasons(plan)["A-FAR"] == (
        "rejected",
        "every set of 2 with it misses a line or costs more than 1.60 "
        "(or as much, with lower priority or a later code)",
    )


# --- Then priority, then code -------------------------------------------------------------


def test_equal_cost_goes_to_the_higher_priority():
    lines = order(("A", 1))
    candidates = [loc("AAA", 5, priority=1, A=1), loc("ZZZ", 5, priority=7, A=1)]

    plan = ship(lines, candidates)

    assert shipped(plan) == {"ZZZ": [(0, "A", 1)]}
    assert reasons(plan)["AAA"] == (
        "rejected",
        "has every line at the same cost 0.25, but priority 1 < 7",
    )


def test_equal_cost_and_priority_goes_to_the_first_code():
    lines = order(("A", 1))
    candidates = [loc("STORE-B", 5, priority=3, A=1), loc("STORE-A", 5, priority=3, A=1)]

    plan = ship(lines, candidates)

    assert shipped(plan) == {"STORE-A": [(0, "A", 1)]}
    assert reasons(plan)["STORE-B"] == (
        "rejected",
        "has every line at the same cost and priority; STORE-A comes first by code",
    )


def test_priority_does_not_beat_a_cent_of_cost():
    lines = order(("A", 1))
    candidates = [
        loc("TOP", 0, handling="1.01", priority=100, A=1),
        loc("LOW", 0, handling="1.00", A=1),
    ]

    assert shipped(ship(lines, candidates)) == {"LOW": [(0, "A", 1)]}


# --- Capacity -------------------------------------------------------------------------------


def test_a_store_without_capacity_left_is_excluded_and_the_explanation_says_so():
    lines = order(("A", 1))
    candidates = [
        loc("STORE-FULL", 1, capacity=0, A=5),
        loc("STORE-OPEN", 3, capacity=1, A=5),
        loc("WH", 50, A=5),
    ]

    plan = ship(lines, candidates)

    assert shipped(plan) == {"STORE-OPEN": [(0, "A", 1)]}
    assert reasons(plan) == {
        "STORE-OPEN": ("chosen", "cost 0.15 (priority 0)"),
        "STORE-FULL": ("rejected", "no ship-from-store capacity left today"),
        "WH": ("rejected", "has every line but costs 2.50, more than 0.15"),
    }


def test_no_capacity_anywhere_means_no_plan():
    plan = ship(order(("A", 1)), [loc("S1", 1, capacity=0, A=1), loc("S2", 1, capacity=-2, A=1)])

    assert not plan.feasible
    assert plan.short_lines == (PlannedLine(0, "A", 1),)
    assert reasons(plan) == {
        "S1": ("rejected", "no ship-from-store capacity left today"),
        "S2": ("rejected", "no ship-from-store capacity left today"),
    }


# --- No plan ------------------------------------------------------------------------------


def test_no_plan_says_what_is_missing():
    lines = order(("A", 2), ("B", 3), ("C", 1), ("B", 1))
    candidates = [loc("S1", 1, A=2, B=1), loc("S2", 2, B=1), loc("S3", 3, D=4)]

    plan = ship(lines, candidates)

    assert not plan.feasible
    assert plan.fulfilments == ()
    assert plan.total_cost == Decimal("0.00")
    # B: 2 of the 3 ordered on line 1 are there, none left for line 3; C: none at all.
    assert plan.short_lines == (
        PlannedLine(1, "B", 1),
        PlannedLine(2, "C", 1),
        PlannedLine(3, "B", 1),
    )
    assert summary(plan) == ["the candidates together do not have every line"]
    assert reasons(plan) == {
        "S1": ("rejected", "has some of the lines, but even all candidates together fall short"),
        "S2": ("rejected", "has some of the lines, but even all candidates together fall short"),
        "S3": ("rejected", "has none of the ordered SKUs"),
    }


def test_no_candidates_at_all():
    plan = ship(order(("A", 1)), [])

    assert not plan.feasible
    assert plan.short_lines == (PlannedLine(0, "A", 1),)


# --- Splits -------------------------------------------------------------------------------


def test_max_splits_limits_the_number_of_shipments():
    lines = order(("A", 1), ("B", 1), ("C", 1))
    candidates = [loc("LA", 1, A=1), loc("LB", 2, B=1), loc("LC", 30, C=1), loc("LX", 0)]

    three = ship(lines, candidates, max_splits=3)
    assert shipped(three) == {"LA": [(0, "A", 1)], "LB": [(1, "B", 1)], "LC": [(2, "C", 1)]}
    assert three.total_cost == Decimal("1.65")

    two = ship(lines, candidates, max_splits=2)
    assert not two.feasible
    # The network has everything, only not in two shipments: what the best two still lack.
    assert two.short_lines == (PlannedLine(2, "C", 1),)
    assert summary(two) == [
        "no set of up to 2 location(s) can serve every line; more would be needed"
    ]
    assert reasons(two) == {
        "LA": ("rejected", "no set of up to 2 location(s) with it has every line"),
        "LB": ("rejected", "no set of up to 2 location(s) with it has every line"),
        "LC": ("rejected", "no set of up to 2 location(s) with it has every line"),
        "LX": ("rejected", "has none of the ordered SKUs"),
    }


def test_max_splits_of_one_allows_only_a_location_with_everything():
    lines = order(("A", 2))
    candidates = [loc("HALF-1", 1, A=1), loc("HALF-2", 1, A=1)]

    assert not ship(lines, candidates, max_splits=1).feasible
    assert shipped(ship(lines, candidates, max_splits=2)) == {
        "HALF-1": [(0, "A", 1)],
        "HALF-2": [(0, "A", 1)],
    }


def test_a_line_is_split_across_locations_when_no_one_has_enough():
    lines = order(("A", 5), ("B", 1))
    candidates = [
        loc("CHEAP", 1, A=3),
        loc("DEAR", 20, A=4, B=1),
        loc("SPARE", 90, A=2),
    ]

    plan = ship(lines, candidates)

    # The cheaper location is filled first; the other takes the rest and the B.
    assert shipped(plan) == {"CHEAP": [(0, "A", 3)], "DEAR": [(0, "A", 2), (1, "B", 1)]}
    assert [f.cost for f in plan.fulfilments] == [Decimal("0.05"), Decimal("1.00")]


def test_never_promises_more_than_available_and_every_chosen_location_ships():
    lines = order(("A", 4), ("A", 3), ("B", 2))
    candidates = [loc("S1", 1, A=2, B=1), loc("S2", 2, A=2, B=1), loc("S3", 3, A=3)]

    plan = ship(lines, candidates)

    assert shipped(plan) == {
        "S1": [(0, "A", 2), (2, "B", 1)],
        "S2": [(0, "A", 2), (2, "B", 1)],
        "S3": [(1, "A", 3)],
    }
    available = {c.code: c.available for c in candidates}
    for f in plan.fulfilments:
        assert f.lines
        for sku in {pl.sku for pl in f.lines}:
            assert sum(pl.quantity for pl in f.lines if pl.sku == sku) <= available[f.location][sku]


def test_a_location_with_nothing_ordered_is_never_chosen():
    lines = order(("A", 1), ("B", 1))
    candidates = [loc("ZERO", 0, A=0, B=0, C=9), loc("A", 5, A=1), loc("B", 5, B=1)]

    plan = ship(lines, candidates)

    assert sorted(shipped(plan)) == ["A", "B"]
    assert reasons(plan)["ZERO"] == ("rejected", "has none of the ordered SKUs")


# --- Pickup -------------------------------------------------------------------------------


def test_pickup_at_a_store_with_everything_is_one_pickup_fulfilment():
    lines = order(("A", 2), ("B", 1))
    candidates = [
        loc("STORE-1", 0, handling="0.75", pickup=True, A=2, B=1),
        loc("STORE-2", 1, pickup=True, A=9, B=9),
    ]

    plan = pickup(lines, candidates, "STORE-1")

    assert plan.feasible
    assert plan.method == Method.PICKUP
    assert plan.fulfilments == (
        PlannedFulfilment(
            location="STORE-1",
            method=Method.PICKUP,
            lines=(PlannedLine(0, "A", 2), PlannedLine(1, "B", 1)),
            distance_km=0.0,
            cost=Decimal("0.75"),
        ),
    )
    assert plan.alternatives == ()
    assert reasons(plan) == {
        "STORE-1": ("chosen", "the chosen pickup store has every line"),
        "STORE-2": ("rejected", "not the chosen pickup store"),
    }


def test_pickup_is_never_split_even_if_another_store_could_add_the_rest():
    lines = order(("A", 2), ("B", 1))
    candidates = [
        loc("CHOSEN", 0, pickup=True, A=2),  # no B
        loc("NEXT-DOOR", 0.5, pickup=True, B=5),  # only B
        loc("FAR-FULL", 20, pickup=True, A=2, B=1),
        loc("NEAR-FULL", 4, pickup=True, A=3, B=3),
        loc("MID-FULL", 8, pickup=True, A=2, B=2),
        loc("FURTHEST-FULL", 40, pickup=True, A=2, B=2),
        loc("NO-PICKUP", 1, pickup=False, A=9, B=9),
    ]

    plan = pickup(lines, candidates, "CHOSEN")

    assert not plan.feasible
    assert plan.fulfilments == ()
    assert plan.short_lines == (PlannedLine(1, "B", 1),)
    # The nearest pickup stores (to the chosen one) with every line, at most three.
    assert plan.alternatives == ("NEAR-FULL", "MID-FULL", "FAR-FULL")
    notes = reasons(plan)
    assert notes["CHOSEN"] == ("rejected", "does not have every line")
    assert notes["NEAR-FULL"] == (
        "rejected",
        "not the chosen pickup store; has every line (named as an alternative)",
    )
    assert notes["NEXT-DOOR"] == ("rejected", "not the chosen pickup store")
    assert summary(plan) == ["stores that have everything: NEAR-FULL, MID-FULL, FAR-FULL"]


def test_pickup_alternatives_follow_the_setting():
    lines = order(("A", 1))
    candidates = [
        loc("CHOSEN", 0, pickup=True),
        *(loc(f"S{i}", i, pickup=True, A=1) for i in range(1, 6)),
    ]

    plan = pickup(lines, candidates, "CHOSEN", alternatives=1)

    assert plan.alternatives == ("S1",)
    assert plan.short_lines == (PlannedLine(0, "A", 1),)


def test_pickup_at_a_store_that_does_not_offer_pickup_or_is_unknown():
    lines = order(("A", 1))
    candidates = [loc("SHIP-ONLY", 0, A=1), loc("OTHER", 3, pickup=True, A=1)]

    plan = pickup(lines, candidates, "SHIP-ONLY")
    assert not plan.feasible
    assert plan.alternatives == ("OTHER",)
    assert reasons(plan)["SHIP-ONLY"] == ("rejected", "not a store that offers pickup")

    unknown = pickup(lines, candidates, "NOWHERE")
    assert not unknown.feasible
    assert unknown.short_lines == (PlannedLine(0, "A", 1),)
    assert unknown.alternatives == ("OTHER",)
    assert reasons(unknown)["NOWHERE"] == ("rejected", "not a store that offers pickup")


def test_pickup_never_promises_more_than_available():
    plan = pickup(order(("A", 3)), [loc("STORE", 0, pickup=True, A=2)], "STORE")

    assert not plan.feasible
    assert plan.short_lines == (PlannedLine(0, "A", 1),)


# --- Determinism, explanations, the heuristic ---------------------------------------------------


def test_the_same_network_in_any_order_gives_the_same_plan():
    lines = order(("A", 3), ("B", 2), ("C", 1), ("A", 1))
    candidates = [
        loc("W1", 10, handling="1.00", priority=1, A=2, B=2),
        loc("W2", 10, handling="1.00", priority=1, A=2, C=1),
        loc("W3", 10, handling="1.00", priority=1, B=2, C=1),
        loc("W4", 10, handling="1.00", priority=1, A=4),
        loc("W5", -10, handling="1.00", priority=1, A=2, B=2),
        loc("W6", -10, handling="1.00", priority=1, C=2, A=2),
    ]
    first = ship(lines, candidates)
    assert first.feasible
    assert len(first.fulfilments) == 2

    rng = random.Random(7)
    for _ in range(30):
        shuffled = list(candidates)
        rng.shuffle(shuffled)
        assert ship(lines, shuffled) == first
        assert ship(lines, shuffled, exact_budget=0) == ship(lines, candidates, exact_budget=0)


def test_the_explanation_covers_every_candidate():
    lines = order(("A", 1), ("B", 1))
    candidates = [
        loc("BOTH", 30, A=1, B=1),
        loc("ONLY-A", 1, A=1),
        loc("NOTHING", 1, C=1),
        loc("FULL", 1, capacity=0, A=1, B=1),
        loc("ALSO-BOTH", 40, A=1, B=1),
    ]
    codes = {c.code for c in candidates}

    for plan in (
        ship(lines, candidates),
        ship(lines, candidates, exact_budget=0),
        ship(order(("A", 1), ("Z", 1)), candidates),
        pickup(lines, [*candidates, loc("PICK", 0, pickup=True)], "PICK"),
    ):
        notes = reasons(plan)
        assert set(notes) >= codes
        chosen = {code for code, (outcome, _) in notes.items() if outcome == "chosen"}
        assert chosen == {f.location for f in plan.fulfilments}
        assert all(outcome in ("chosen", "rejected") and why for outcome, why in notes.values())


def test_the_heuristic_takes_over_above_the_budget_and_says_so():
    """300 stores each with one of three SKUs: no single store has everything and the pairs
    alone (44,850) are over the default budget of 20,000 sets."""
    lines = order(("A", 1), ("B", 1), ("C", 1))
    candidates = [
        loc(f"S{i:03d}", 1 + i % 50, handling=f"{i % 7}.00", **{"ABC"[i % 3]: 1})
        for i in range(300)
    ]

    plan = ship(lines, candidates)

    assert plan.feasible
    assert not plan.exact
    # Optimal here: the cheapest holder of each SKU (handling 0.00, nearest): A at S000
    # (1 km), B at S154 (5 km), C at S203 (4 km).
    assert shipped(plan) == {
        "S000": [(0, "A", 1)],
        "S203": [(2, "C", 1)],
        "S154": [(1, "B", 1)],
    }
    assert plan.total_cost == Decimal("0.50")  # 0.05 + 0.20 + 0.25
    assert summary(plan) == [
        "3 shipment(s), cost 0.50; heuristic (too many candidates to search every set)"
    ]
    assert reasons(plan)["S003"] == ("rejected", "not in the best set the heuristic found")


def test_the_heuristic_restarts_when_its_first_greedy_pick_leads_nowhere():
    """Greedy first takes a location covering the most (L3: 7 of 14 units, and free), after
    which no two more locations finish the order; starting from L2 instead, three do. The
    planner before the restarts answered "no plan" here."""
    lines = order(("A", 4), ("C", 6), ("D", 4))
    candidates = [
        loc("L0", 1, handling="3.00", priority=2, A=2, C=2, D=1),
        loc("L1", 9, handling="1.25", C=4, D=2),
        loc("L2", 2, handling="0.50", A=2, C=1, D=4),
        loc("L3", 3, priority=1, capacity=1, A=1, C=2, D=4),
    ]

    plan = ship(lines, candidates, exact_budget=1)

    assert plan.feasible
    assert not plan.exact
    assert shipped(plan) == {
        "L2": [(0, "A", 2), (1, "C", 1), (2, "D", 4)],
        "L1": [(1, "C", 4)],
        "L0": [(0, "A", 2), (1, "C", 1)],
    }
    assert ship(lines, candidates).total_cost == plan.total_cost  # optimal here too


def test_when_the_heuristic_finds_no_plan_it_does_not_claim_that_none_exists():
    lines = order(("A", 1), ("B", 1), ("C", 1))
    candidates = [loc("LA", 1, A=1), loc("LB", 2, B=1), loc("LC", 3, C=1)]

    plan = ship(lines, candidates, max_splits=2, exact_budget=1)

    assert not plan.feasible
    assert not plan.exact
    assert plan.short_lines == (PlannedLine(2, "C", 1),)  # the two cheapest leave C out
    assert summary(plan) == [
        "the heuristic found no set of up to 2 location(s) that serves every line "
        "(too many candidates to search every set)"
    ]
    assert reasons(plan)["LC"] == (
        "rejected",
        "not in any set of up to 2 location(s) the heuristic found",
    )
