"""Holiday and campaign regressors, and learning each channel's carry-over shape."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from forecaster.core.config import load_config
from forecaster.features.adstock import adstock, campaign_exposure, campaign_features
from forecaster.features.holidays import holiday_features
from tests.conftest import ROOT

D = dt.date


@pytest.fixture(scope="module")
def demo_config():
    return load_config(ROOT / "configs" / "example.yaml")


def test_dutch_holiday_features(demo_config):
    h = holiday_features(demo_config, D(2025, 4, 1), D(2025, 12, 31))
    assert h.loc["2025-04-21", ["holiday", "closed"]].tolist() == [1, 1]          # Tweede paasdag
    assert h.loc["2025-04-22", "after_holiday"] == 1                               # Tuesday after Easter
    assert h.loc["2025-05-30", "bridge"] == 1                                      # Friday after Ascension
    assert h.loc["2025-12-27", "after_holiday"] == 1                               # Saturday after Christmas (open)
    assert h.loc["2025-06-10", "after_holiday"] == 1                               # after Pinksteren
    after = [d.isoformat() for d in h.index[h["after_holiday"] == 1].date]
    assert after == ["2025-04-19", "2025-04-22", "2025-04-28", "2025-05-06", "2025-05-30", "2025-06-10", "2025-12-27"]
    assert h.loc["2025-07-01":"2025-07-31"].to_numpy().sum() == 0


def test_after_holiday_skips_days_the_site_never_opens(config):
    # the tiny config is closed on Saturdays: after Christmas (Thu 25, Fri 26) comes Monday 29
    h = holiday_features(config, D(2025, 12, 20), D(2025, 12, 31))
    assert h.loc["2025-12-29", "after_holiday"] == 1 and h.loc["2025-12-27", "after_holiday"] == 0


def test_observances_are_their_own_days_and_their_own_regressor(demo_config):
    """Israel's intermediate festival days (the holidays package's optional category) are no public
    holidays; named as observances they get a column, scaled by the weekday like a worked holiday."""
    from forecaster.core.config import HolidayCalendar
    from forecaster.demand.models.topdown import special_days
    from forecaster.features.design import daily_design

    config = demo_config.model_copy(update={"holidays": HolidayCalendar(country="IL", observances=["optional"])})
    h = holiday_features(config, D(1999, 9, 20), D(1999, 10, 3))
    assert [d.isoformat() for d in h.index[h["observance"] == 1].date] == [
        "1999-09-26", "1999-09-27", "1999-09-28", "1999-09-29", "1999-09-30"]          # Chol HaMoed Sukkot
    assert h.loc["1999-09-25", ["holiday", "observance"]].tolist() == [1, 0]           # Sukkot itself: public
    assert {D(1999, 9, 26), D(1999, 9, 30)} <= special_days(h)
    weight = np.linspace(0.2, 1.0, 7)
    x = daily_design(pd.date_range("1999-09-20", "1999-10-03"), h, yearly=False, weekday_weight=weight)
    assert x.loc["1999-09-27", "observance"] == pytest.approx(weight[0]) and x.loc["1999-09-24", "observance"] == 0
    plain = holiday_features(demo_config, D(2025, 4, 1), D(2025, 4, 30))
    assert plain["observance"].sum() == 0                                              # none unless named
    with pytest.raises(ValueError, match="no category 'optional' for GB; it has none besides public"):
        HolidayCalendar(country="GB", observances=["optional"])
    with pytest.raises(ValueError, match="need a country"):
        HolidayCalendar(observances=["optional"])


def test_adstock_kernel():
    x = np.zeros(10)
    x[1] = 1.0
    assert adstock(x, 2, 0.5)[:7].tolist() == [0, 0, 0, 1.0, 0.5, 0.25, 0.125]
    assert adstock(x, 0, 0.0).tolist() == x.tolist()


def test_exposure_spreads_reach_over_flight_and_queues():
    cal = pd.DataFrame({"channel": ["tv", "email", "email"], "start_ts": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-07"]),
                        "end_ts": pd.to_datetime(["2026-01-08 23:59:59", "2026-01-06", "2026-01-07"], format="ISO8601"),
                        "queues": [["a", "b"], ["a"], ["zzz"]], "reach": [4_000_000.0, None, 10_000.0]})
    e = campaign_exposure(cal, ["a", "b"], D(2026, 1, 1), D(2026, 1, 31))
    tv = e[(e.channel == "tv") & (e.queue == "a")]
    assert tv["exposure"].tolist() == [1000.0] * 4                                # 4,000 thousand over 4 days
    assert e[(e.channel == "email")]["exposure"].tolist() == [10.0]               # missing reach: channel median
    f = campaign_features(e, ["a", "b"], D(2026, 1, 1), D(2026, 1, 31), {"tv": (1, 0.5), "email": (0, 0.0)})
    assert f.loc[("a", pd.Timestamp("2026-01-06")), "cmp_tv"] == 1000.0
    # on the 10th: the 8th one day after its lag (0.5), the 7th (0.25), the 6th (0.125), the 5th (0.0625)
    assert f.loc[("b", pd.Timestamp("2026-01-10")), "cmp_tv"] == pytest.approx(1000 * (0.5 + 0.25 + 0.125 + 0.0625))


