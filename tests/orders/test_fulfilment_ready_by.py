"""Ready-by times from a store's opening hours (a pure function) and hold periods."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders.services.pickup_times import (
    WEEKDAYS,
    local_text,
    pickup_hold_days,
    pickup_ready_by,
)

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS_9_TO_6 = {day: ["09:00", "18:00"] for day in WEEKDAYS[:6]} | {"sun": []}


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def ready(now, hours=WEEKDAYS_9_TO_6, tz="Europe/Amsterdam", minutes=120):
    return pickup_ready_by(now=now, opening_hours=hours, timezone_name=tz, minutes=minutes)


def test_always_open_is_now_plus_the_pick_time():
    now = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
    assert ready(now, hours={}) == datetime(2025, 6, 1, 5, 0, tzinfo=UTC)
    assert ready(now, hours=None) == datetime(2025, 6, 1, 5, 0, tzinfo=UTC)


def test_during_opening_hours_with_time_to_pick():
    # Wednesday 11 June 2025, 10:00 in Amsterdam (CEST, UTC+2).
    assert ready(ams(2025, 6, 11, 10, 0)) == ams(2025, 6, 11, 12, 0)
    assert ready(ams(2025, 6, 11, 16, 0)) == ams(2025, 6, 11, 18, 0)  # just in time
    assert ready(ams(2025, 6, 11, 10, 0)).tzinfo == UTC


def test_too_late_to_finish_moves_to_the_next_open_day_opening_plus_pick_time():
    assert ready(ams(2025, 6, 11, 16, 1)) == ams(2025, 6, 12, 11, 0)
    # Saturday afternoon: Sunday is closed, so Monday.
    assert ready(ams(2025, 6, 14, 17, 0)) == ams(2025, 6, 16, 11, 0)


def test_before_opening_starts_at_opening_and_after_closing_the_next_open_day():
    assert ready(ams(2025, 6, 11, 7, 30)) == ams(2025, 6, 11, 11, 0)
    assert ready(ams(2025, 6, 11, 18, 0)) == ams(2025, 6, 12, 11, 0)
    assert ready(ams(2025, 6, 11, 23, 59)) == ams(2025, 6, 12, 11, 0)
    assert ready(ams(2025, 6, 15, 12, 0)) == ams(2025, 6, 16, 11, 0)  # on closed Sunday


def test_a_missing_weekday_is_closed():
    hours = {"mon": ["09:00", "18:00"]}
    assert ready(ams(2025, 6, 11, 10, 0), hours=hours) == ams(2025, 6, 16, 11, 0)


def test_a_store_never_open_falls_back_to_now_plus_pick_time():
    now = ams(2025, 6, 11, 10, 0)
    assert ready(now, hours={day: [] for day in WEEKDAYS}) == now + timedelta(hours=2)


def test_a_pick_longer_than_the_opening_day_ends_that_long_after_opening():
    hours = {day: ["09:00", "10:00"] for day in WEEKDAYS}
    assert ready(ams(2025, 6, 11, 8, 0), hours=hours) == ams(2025, 6, 11, 11, 0)
    assert ready(ams(2025, 6, 11, 9, 30), hours=hours) == ams(2025, 6, 12, 11, 0)


def test_two_hours_of_picking_are_two_real_hours_when_the_clocks_go_forward():
    # 30 March 2025: 02:00 CET becomes 03:00 CEST. 01:30 CET is 00:30 UTC.
    hours = {day: ["00:00", "23:59"] for day in WEEKDAYS}
    now = ams(2025, 3, 30, 1, 30)
    assert now.astimezone(UTC) == datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    result = ready(now, hours=hours)
    assert result == datetime(2025, 3, 30, 2, 30, tzinfo=UTC)
    assert result.astimezone(AMS).strftime("%H:%M %Z") == "04:30 CEST"


def test_opening_time_on_the_next_open_day_uses_that_days_offset():
    # Saturday 29 March 17:30 CET: too late; Sunday closed; Monday 09:00 is CEST (UTC+2).
    assert ready(ams(2025, 3, 29, 17, 30)) == datetime(2025, 3, 31, 9, 0, tzinfo=UTC)
    # Saturday 25 October 17:30 CEST; Monday 27 October 09:00 is CET (UTC+1).
    assert ready(ams(2025, 10, 25, 17, 30)) == datetime(2025, 10, 27, 10, 0, tzinfo=UTC)


def test_the_store_time_zone_counts_not_the_callers():
    hours = {day: ["10:00", "20:00"] for day in WEEKDAYS}
    # 13:00 UTC is 09:00 in New York (EDT): before opening there.
    now = datetime(2025, 6, 11, 13, 0, tzinfo=UTC)
    result = ready(now, hours=hours, tz="America/New_York")
    assert result == datetime(2025, 6, 11, 16, 0, tzinfo=UTC)  # 10:00 + 2 h, local
    assert local_text(result, "America/New_York") == "2025-06-11 12:00 EDT"


def test_the_pick_time_setting(settings):
    settings.ORDERS_PICK_MINUTES = 30
    now = ams(2025, 6, 11, 10, 0)
    assert pickup_ready_by(
        now=now, opening_hours=WEEKDAYS_9_TO_6, timezone_name="Europe/Amsterdam"
    ) == ams(2025, 6, 11, 10, 30)


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        ready(datetime(2025, 6, 11, 10, 0))  # noqa: DTZ001


def test_hold_days_per_channel(settings):
    assert pickup_hold_days("web") == 7
    settings.ORDERS_PICKUP_HOLD_DAYS = 5
    settings.ORDERS_PICKUP_HOLD_DAYS_BY_CHANNEL = {"web": 3}
    assert pickup_hold_days("web") == 3
    assert pickup_hold_days("pos") == 5


HOURS = st.sampled_from([("08:00", "12:00"), ("09:00", "18:00"), ("00:00", "23:59"), None])


@settings(max_examples=300, deadline=None)
@given(
    week=st.lists(HOURS, min_size=7, max_size=7),
    minutes=st.integers(min_value=1, max_value=600),
    now=st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001
        max_value=datetime(2026, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_property_ready_by_is_never_sooner_than_the_pick_and_starts_when_staff_can(
    week, minutes, now
):
    hours = {day: list(h) if h else [] for day, h in zip(WEEKDAYS, week, strict=True)}
    result = ready(now, hours=hours, minutes=minutes)
    pick = timedelta(minutes=minutes)
    assert result >= now + pick
    start = (result - pick).astimezone(AMS)
    if not any(week):
        return
    opens, closes = hours[WEEKDAYS[start.weekday()]] or (None, None)
    if start != now:
        # Picking starts at an opening time: the store was closed, or too late to finish.
        assert (start.strftime("%H:%M:%S.%f"), opens) == (f"{opens}:00.000000", opens)
    elif start.strftime("%H:%M") != opens:
        # Picking starts now only during opening hours, and finishes by closing time.
        assert opens is not None
        assert opens <= start.strftime("%H:%M") < closes
        closing = datetime.combine(start.date(), time.fromisoformat(closes), tzinfo=AMS)
        assert result <= closing


def test_starting_the_pick_sets_ready_by_from_the_stores_opening_hours(network, storefront):
    from inventory.models import Location
    from orders.models import Fulfilment
    from orders.services import PickedLine, record_pick
    from tests.orders.conftest import pickup_body, stock

    Location.objects.filter(code="STORE-AMS").update(opening_hours=WEEKDAYS_9_TO_6)
    stock("TEE", "STORE-AMS", 2)
    response = storefront.post(
        "/api/v1/orders/", pickup_body("STORE-AMS", ("TEE", 1)), format="json"
    )
    fid = response.json()["fulfilments"][0]["id"]
    saturday_evening = ams(2025, 6, 14, 17, 0)
    record_pick(fulfilment_id=fid, lines=[PickedLine("TEE", 1)], now=saturday_evening)
    assert Fulfilment.objects.get(pk=fid).ready_by == ams(2025, 6, 16, 11, 0)
