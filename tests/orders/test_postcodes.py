"""The offline postal-code table (orders.routing.postcodes): formats, coverage of the demo's
metro area, and that every point is where its town is."""

import csv
import json

import pytest

from inventory.geo import distance_km
from orders.routing import Candidate, Method, PlanLine, Point, plan_fulfilment
from orders.routing.postcodes import FIXTURES, locate, table

DAM = (52.3731, 4.8926)
RANGES = {  # the brief: every code in these ranges places somewhere
    "Amsterdam": range(1000, 1110),
    "Diemen": range(1110, 1120),
    "Amstelveen": range(1180, 1190),
    "Almere": range(1300, 1365),
    "Weesp": range(1380, 1385),
    "Uithoorn": range(1420, 1430),
    "Purmerend": range(1440, 1450),
    "Zaandam": range(1500, 1510),
    "Haarlem": range(2000, 2038),
    "Heemstede": range(2100, 2107),
    "Hoofddorp": range(2130, 2136),
}
CENTRES = {
    "Amsterdam": DAM,
    "Diemen": (52.3405, 4.9625),
    "Amstelveen": (52.3030, 4.8600),
    "Almere": (52.3705, 5.2190),
    "Weesp": (52.3075, 5.0420),
    "Uithoorn": (52.2375, 4.8265),
    "Purmerend": (52.5045, 4.9590),
    "Zaandam": (52.4380, 4.8265),
    "Haarlem": (52.3810, 4.6365),
    "Heemstede": (52.3525, 4.6210),
    "Hoofddorp": (52.3030, 4.6900),
}


def km(point: Point, to: tuple[float, float]) -> float:
    return distance_km(point.latitude, point.longitude, *to)


@pytest.mark.parametrize(
    "written", ["1012 AB", "1012AB", "1012ab", "1012", " 1012  ab ", "1012-AB", "1012\tAB"]
)
def test_the_usual_ways_of_writing_a_dutch_postcode(written):
    assert locate(written) == Point(52.3730, 4.8935)
    assert locate(written, "nl") == Point(52.3730, 4.8935)


@pytest.mark.parametrize(
    "written",
    ["", "   ", "AB", "101", "10123", "1012 A", "1012 ABC", "0123", "0123 AB", "ABCD", "1O12"],
)
def test_what_is_not_a_dutch_postcode_is_none(written):
    assert locate(written) is None


def test_a_postcode_outside_the_table_or_another_country_is_none():
    assert locate("9999 ZZ") is None  # a real format, not in the table (Groningen, far away)
    assert locate("3511") is None  # Utrecht: not covered
    assert locate("1012", "BE") is None
    assert locate("1012", "") is None
    assert locate(None) is None  # type: ignore[arg-type]


def test_every_code_of_the_metro_area_places_near_its_town():
    rows = table("NL")
    for town, codes in RANGES.items():
        for code in codes:
            point = locate(str(code))
            assert point is not None, code
            assert point == rows[str(code)]
            # Amsterdam is big (Westpoort to Driemond); the rest are towns or town districts.
            limit = 16 if town in ("Amsterdam", "Diemen") else 9
            assert km(point, CENTRES[town]) < limit, (code, town)


def test_the_file_says_what_is_approximate():
    with (FIXTURES / "postcodes_nl.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["postal_code", "latitude", "longitude", "place", "comment"]
    assert len({row["postal_code"] for row in rows}) == len(rows)
    for row in rows:
        assert row["comment"].startswith("approximate ("), row
        assert 50.7 < float(row["latitude"]) < 53.6
        assert 3.3 < float(row["longitude"]) < 7.3
        centre = CENTRES.get(row["place"])
        at_centre = centre and (float(row["latitude"]), float(row["longitude"])) == centre
        # A town-centre point says so, and what says so is the town centre.
        assert bool(at_centre) == ("town centre" in row["comment"]), row


def test_demo_stores_are_near_the_postcode_of_their_street():
    demo = json.loads((FIXTURES / "locations.json").read_text(encoding="utf-8"))
    where = {
        x["code"]: (float(x["latitude"]), float(x["longitude"]))
        for x in demo["stores"] + demo["warehouses"]
    }
    for postcode, code, within in [
        ("1012 NX", "AMS-KALVERSTRAAT", 1.0),  # Kalverstraat
        ("1072 AB", "AMS-DEPIJP", 1.0),  # Albert Cuypstraat
        ("1068", "AMS-OSDORP", 1.5),  # Osdorpplein
        ("1025", "AMS-NOORD", 1.0),  # Buikslotermeerplein
        ("1101 BA", "AMS-ZUIDOOST", 1.0),  # Amsterdamse Poort
        ("1118 CP", "SCHIPHOL-PLAZA", 0.5),
        ("1119", "WH-SCHIPHOL", 0.5),
        ("2034", "HAARLEM-SCHALKWIJK", 0.5),
        ("1331", "ALMERE-BUITEN", 1.0),
    ]:
        assert km(locate(postcode), where[code]) < within, (postcode, code)


def test_the_planner_can_ship_to_a_postcode():
    lines = [PlanLine(0, "A", 1)]
    candidates = [
        Candidate("AMS-KALVERSTRAAT", 52.3705, 4.8915, available={"A": 1}),
        Candidate("HAARLEM-CENTRUM", 52.3795, 4.6350, available={"A": 1}),
    ]

    to_haarlem = plan_fulfilment(
        lines=lines, candidates=candidates, method=Method.SHIP, destination=locate("2011 AB")
    )
    to_amsterdam = plan_fulfilment(
        lines=lines, candidates=candidates, method=Method.SHIP, destination=locate("1012")
    )

    assert [f.location for f in to_haarlem.fulfilments] == ["HAARLEM-CENTRUM"]
    assert [f.location for f in to_amsterdam.fulfilments] == ["AMS-KALVERSTRAAT"]
