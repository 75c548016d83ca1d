"""Prediction intervals: conformal widths per interval and per day, and their growth with the lead time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster.demand.intervals import (
    CALIBRATED_WEEKS,
    MIN_GROUP_ROWS,
    conformal_widths,
    daily_bands,
    daily_widths,
    forecast_record,
    grown,
    lead_growth,
    per_interval,
    unannounced,
    volume_widths,
    week_ahead,
    with_intervals,
)


def hourly_history(level: np.ndarray, seed: int = 1) -> pd.DataFrame:
    """One queue, 10 hours a day, Poisson counts around a daily ``level``."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2026-01-05", periods=len(level), freq="D")
    ds = pd.DatetimeIndex([d + pd.Timedelta(hours=8 + h) for d in days for h in range(10)])
    mean = np.repeat(level, 10) / 10
    return pd.DataFrame({"queue": "q", "ds": ds, "y": rng.poisson(mean).astype(float)})


def test_bands_widen_where_the_level_drifts_and_not_where_it_is_steady():
    first = pd.Timestamp("2026-01-05") + pd.Timedelta(days=200)
    steady = lead_growth(hourly_history(np.full(200, 400.0)), None, first, 6)
    walk = 400 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.04, 200)))
    drifting = lead_growth(hourly_history(walk), None, first, 6)
    for growth in (steady, drifting):
        for level in ("interval", "daily"):
            for factors in growth[level].values():
                assert len(factors) == 6 and factors[:CALIBRATED_WEEKS] == [1.0] * CALIBRATED_WEEKS
                assert min(factors) >= 1.0
    assert max(drifting["daily"]["0.8"]) > 1.5 > max(steady["daily"]["0.8"])


def test_holidays_in_the_later_weeks_do_not_widen_every_day_of_them():
    """A steady queue with two holidays a week in its last three weeks (a tenth of the volume, which
    the four-week average misses by 90 %): they fall in the growth origins' weeks 4-6 only. With
    the holidays known, the growth comes from ordinary days alone and stays near 1; without them
    it is several times the backtest's width."""
    from types import SimpleNamespace

    level = np.full(200, 400.0)
    first = pd.Timestamp("2026-01-05") + pd.Timedelta(days=200)
    days = pd.date_range("2026-01-05", periods=200, freq="D")
    holiday = (np.arange(200) >= 200 - 21) & np.isin(days.weekday, [1, 3])   # in the last origins' weeks 4-6 only
    level[holiday] = 40.0
    hist = hourly_history(level)
    hol = pd.DataFrame(0, index=days, columns=["holiday", "closed", "eve", "after_holiday", "bridge", "observance"])
    hol.loc[days[holiday], "holiday"] = 1
    known = lead_growth(hist, SimpleNamespace(holidays=hol), first, 6)
    unknown = lead_growth(hist, None, first, 6)
    assert max(unknown["daily"]["0.95"]) > 2.0
    assert max(known["daily"]["0.95"]) < 1.3 and max(known["interval"]["0.95"]) < 1.3


def test_too_little_history_or_a_short_horizon_keeps_the_backtest_widths():
    first = pd.Timestamp("2026-01-05") + pd.Timedelta(days=40)
    assert lead_growth(hourly_history(np.full(40, 400.0)), None, first, 6) is None
    assert lead_growth(hourly_history(np.full(200, 400.0)), None, first + pd.Timedelta(days=160), 2) is None
    widths = {0.8: 1.2, 0.95: 2.0}
    assert grown(widths, None, "interval", np.array([1, 5])) == {"lower": widths, "upper": widths}


def test_grown_widths_follow_each_rows_week_and_keep_the_bands_ordered():
    growth = {"interval": {"0.8": [1, 1, 1.5, 2, 2, 2], "0.95": [1, 1, 1.2, 1.4, 1.6, 1.8]}}
    weeks = week_ahead(pd.Series(pd.date_range("2026-03-02", periods=6, freq="7D")), pd.Timestamp("2026-03-02"))
    assert weeks.tolist() == [1, 2, 3, 4, 5, 6]
    w = grown({0.8: 1.0, 0.95: 2.0}, growth, "interval", weeks)
    for side in ("lower", "upper"):
        assert w[side][0.8].tolist() == [1, 1, 1.5, 2, 2, 2] and np.allclose(w[side][0.95], [2, 2, 2.4, 2.8, 3.2, 3.6])
    point = np.full(6, 100.0)
    bands = with_intervals(point, w)
    assert (bands["lo_95"] <= bands["lo_80"]).all() and (bands["lo_80"] <= point).all()
    assert (bands["hi_80"] <= bands["hi_95"]).all() and (np.diff(bands["hi_80"]) >= 0).all()


def day_and_night(days: int, seed: int) -> pd.DataFrame:
    """A queue open day and night, half-hourly: nights expect 0.8 contacts (Poisson), days 60 times
    the day's level, which is off the forecast by 15 % (sd) and shared by the day's intervals."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2026-03-02", periods=days * 48, freq="30min")
    p = np.where((ds.hour >= 8) & (ds.hour < 20), 60.0, 0.8)
    level = np.repeat(rng.lognormal(0.0, 0.15, days), 48)
    y = rng.poisson(np.where(p > 1, p * level, p)).astype(float)
    return pd.DataFrame({"ds": ds, "origin": ds[0], "p": p, "y": y})


def test_quiet_and_busy_intervals_get_bands_of_their_own():
    """One width for a night of 0.8 expected contacts and a day interval of 60 that shares its
    day's level error took the middle: the nights' 80 % bands held nearly all of them and the day's
    two thirds (staffing at the 0.8 quantile thin at the peaks). Calibrated apart, on a backtest
    of 42 days, the day's bands hold about 80 % of 60 new days (the nights still 95 %: a count
    of 0.8 cannot be cut finer than 0, 1 or 2). Only edges with enough rows on both sides are
    kept: a bin short of them joins the next busier one, and without quiet intervals (or with too
    few) every interval keeps the pooled widths."""
    res, new = day_and_night(42, seed=3), day_and_night(60, seed=103)
    busy = new["p"].to_numpy() >= 2

    def inside(widths):
        bands = with_intervals(new["p"].to_numpy(), widths)
        hit = (new["y"] >= bands["lo_80"]) & (new["y"] <= bands["hi_80"])
        return hit[~busy].mean(), hit[busy].mean()

    pooled = conformal_widths(res)
    night, day = inside(pooled)
    assert night > 0.98 and day < 0.7
    apart = volume_widths(res)
    assert apart["edges"] == [1.0]                      # nights (0.8) below, days (60) above; no bin between
    night, day = inside(per_interval(new["p"].to_numpy(), apart))
    assert 0.76 <= day <= 0.86 and 0.9 <= night < 0.98
    assert apart["widths"][1]["upper"][0.8] > pooled["upper"][0.8]

    few = pd.concat([res[res["p"] > 1], res[res["p"] < 1].head(MIN_GROUP_ROWS - 1)])
    assert volume_widths(few) == {"edges": [], "widths": [conformal_widths(few)]}
    dim = res.assign(p=np.where(res["p"] < 1, 0.1, 60.0))
    dim.loc[dim.index[dim["p"] < 1][:50], "p"] = 0.5      # 50 rows at 0.5: too few for a bin of their own
    split = volume_widths(dim)
    assert split["edges"] == [0.25]
    assert split["widths"][1] == conformal_widths(dim[dim["p"] >= 0.25])
    recorded = {"edges": split["edges"], "widths": [{side: {str(k): v for k, v in w[side].items()} for side in w}
                                                     for w in split["widths"]]}
    rows = per_interval(np.array([0.1, 0.5, 60.0]), recorded)["upper"][0.8]
    assert rows[0] == split["widths"][0]["upper"][0.8] and rows[1] == rows[2] == split["widths"][1]["upper"][0.8]


def test_daily_bands_use_the_days_own_calibration():
    ds = pd.date_range("2026-03-02", periods=40 * 24, freq="h")          # 40 days, 10 open hours each
    ds = ds[(ds.hour >= 8) & (ds.hour < 18)]
    rng = np.random.default_rng(5)
    res = pd.DataFrame({"ds": ds, "origin": pd.Timestamp("2026-03-02"), "p": 20.0})
    res["y"] = rng.poisson(20, len(res)).astype(float)
    widths = daily_widths(res)
    for side in ("lower", "upper"):
        assert 0 < widths[side][0.8] < widths[side][0.95]
    info = {"daily_scale": {side: {str(k): v for k, v in w.items()} for side, w in widths.items()}, "lead_growth": None}
    bands = daily_bands(np.array([200.0, 200.0]), np.array([1, 2]), info)
    assert (bands["lo_80"] < 200).all() and (bands["hi_95"] > bands["hi_80"]).all()
    assert daily_bands(np.array([200.0]), np.array([1]), {}) is None          # a run from before 0.2


def test_daily_bands_take_one_width_for_both_sides_from_few_days():
    """A daily calibration rests on a few dozen distinct days. Each side from its own tail (the
    0.9 quantile of 20 days is their second largest) follows the draw: over 300 draws of 20
    ordinary days the per-side 80 % width varies about half as much again as one width from both
    tails. Daily widths are that one width, the same below and above, and the band holds at least
    80 % of the days it was calibrated on. A run recorded with one width per level (before the
    sides) still gets its symmetric bands."""
    rng = np.random.default_rng(11)
    days = pd.date_range("2026-03-02", periods=20)
    sided_w, one_w = [], []
    for _ in range(300):
        res = pd.DataFrame({"ds": days + pd.Timedelta(hours=9), "origin": days[0], "p": 1000.0,
                            "y": 1000 + rng.normal(0, 40, len(days))})
        one = daily_widths(res)
        assert one["lower"] == one["upper"]
        sided_w.append(conformal_widths(res)["upper"][0.8])
        one_w.append(one["upper"][0.8])
        half = one["upper"][0.8] * np.sqrt(1001.0)
        assert (np.abs(res["y"] - 1000) <= half + 1e-9).mean() >= 0.8
    assert np.std(sided_w) > 1.3 * np.std(one_w)
    info = {"daily_scale": {side: {str(k): v for k, v in w.items()} for side, w in one.items()}, "lead_growth": None}
    bands = daily_bands(np.array([1000.0]), np.array([1]), info)
    np.testing.assert_allclose(bands["hi_80"][0] - 1000, 1000 - bands["lo_80"][0])
    old = daily_bands(np.array([1000.0]), np.array([1]), {"daily_scale": {"0.8": 2.0, "0.95": 4.0}, "lead_growth": None})
    scale = np.sqrt(1001.0)
    np.testing.assert_allclose([old["lo_80"][0], old["hi_80"][0]], [1000 - 2 * scale, 1000 + 2 * scale])


def test_days_past_the_calendar_get_room_for_campaigns_not_announced_yet():
    """Past campaigns added nothing on most days and 300 contacts to a day of 1,000 on some (0.3
    per contact of the day without them); the calendar's last known start is 10 March. Daily upper
    bands after it widen by that upward risk in proportion to each day's forecast (in quadrature):
    a quiet day of 100 gets a tenth of a 1,000 day's room. Lower bands and the days up to the
    last start stay; a queue whose history holds no campaign contacts gets no allowance."""
    days = pd.date_range("2026-01-01", "2026-03-01")
    per_day = np.where(np.arange(len(days)) % 10 < 3, 300.0, 0.0)
    hist = pd.DataFrame({"queue": "voice", "ds": days + pd.Timedelta(hours=9), "y": 1000.0 + per_day})
    extra = pd.Series(per_day, index=pd.MultiIndex.from_arrays([["voice"] * len(days), days]))
    calendar = pd.DataFrame({"queues": [["voice"], ["other"]],
                             "start_ts": [pd.Timestamp("2026-03-10 09:00"), pd.Timestamp("2026-04-30")]})
    allowance = unannounced(extra, hist, calendar, "voice")
    assert allowance == {"after": "2026-03-10", "per_contact": {"0.8": 0.3, "0.95": 0.3}}
    assert unannounced(extra * 0, hist, calendar, "voice") is None
    assert unannounced(extra, hist.assign(queue="chat"), calendar, "chat") is None

    info = {"daily_scale": {"0.8": 2.0, "0.95": 4.0}, "lead_growth": None, "unannounced": allowance}
    future = pd.date_range("2026-03-09", periods=4)                  # two days up to it, two after
    point = np.array([1000.0, 1000.0, 1000.0, 100.0])
    plain = daily_bands(point, np.ones(4, int), {**info, "unannounced": None}, future)
    bands = daily_bands(point, np.ones(4, int), info, future)
    for name in ("80", "95"):
        np.testing.assert_allclose(bands[f"lo_{name}"], plain[f"lo_{name}"])
        np.testing.assert_allclose(bands[f"hi_{name}"][:2], plain[f"hi_{name}"][:2])
        half = plain[f"hi_{name}"][2:] - point[2:]
        np.testing.assert_allclose(bands[f"hi_{name}"][2:], point[2:] + np.sqrt(half ** 2 + (0.3 * point[2:]) ** 2))

    # a run recorded before the ratio held contacts per day: its daily bands still read it
    old = {**info, "unannounced": {"after": "2026-03-10", "0.8": 300.0, "0.95": 300.0}}
    bands = daily_bands(point, np.ones(4, int), old, future)
    for name in ("80", "95"):
        half = plain[f"hi_{name}"][2:] - point[2:]
        np.testing.assert_allclose(bands[f"hi_{name}"][2:], point[2:] + np.sqrt(half ** 2 + 300 ** 2))


def test_growth_is_one_slope_of_the_squared_width_over_the_later_weeks():
    """Scores whose week-k spread is the calibrated weeks' times sqrt(1 + 0.5 (k - 2)) give back
    exactly those factors; later weeks no worse than the calibrated ones give 1, not the noisy
    per-week ratios clipped at 1 (which only ever widened)."""
    from forecaster.demand.intervals import _linear_variance

    base = np.random.default_rng(5).gamma(2.0, 1.0, 300)
    weeks = np.repeat(np.arange(1, 7), 300)
    grow = np.where(weeks <= 2, 1.0, np.sqrt(1 + 0.5 * (weeks - 2)))
    s = pd.Series(np.tile(base, 6) * grow)
    for lvl in (0.8, 0.95):
        np.testing.assert_allclose(_linear_variance(s, pd.Series(weeks), lvl, 6),
                                   [1, 1] + [np.sqrt(1 + 0.5 * k) for k in range(1, 5)], atol=1e-3)
    noisy = pd.Series(np.tile(base, 6) * np.select([weeks == 3, weeks == 4, weeks == 5, weeks == 6],
                                                   [0.9, 1.05, 0.95, 0.9], 1.0))
    assert _linear_variance(noisy, pd.Series(weeks), 0.8, 6) == [1.0] * 6


def test_the_accuracy_reports_coverage_range_resamples_whole_origins():
    """``benchmarks.real_accuracy.coverage_range``: origins alike give a range of one value (the
    coverage itself); origins that differ give a range around it, drawn origin by origin."""
    from benchmarks.real_accuracy import coverage, coverage_range

    def frame(misses):                  # per origin, the days (of 7) outside both bands
        rows = []
        for k, miss in enumerate(misses):
            origin = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=k)
            for d in range(7):
                y = 200.0 if d < miss else 100.0
                rows.append({"ds": origin + pd.Timedelta(days=d), "lead_day": d + 1, "y": y,
                             "lo_80": 90.0, "hi_80": 110.0, "lo_95": 80.0, "hi_95": 120.0})
        return pd.DataFrame(rows)

    alike = coverage_range(frame([2] * 8))
    assert alike.loc[1].tolist() == ["0.71-0.71"] * 2 and coverage(frame([2] * 8)).loc[1, "in_80"] == 5 / 7
    lo, hi = map(float, coverage_range(frame([0, 0, 0, 0, 7, 7, 7, 7])).loc[1, "in_80 5-95 %"].split("-"))
    assert lo < 0.5 < hi and lo >= 0.0 and hi <= 1.0 and hi - lo > 0.3


def test_the_accuracy_reports_coverage_per_third_of_the_intervals_by_volume():
    """``benchmarks.real_accuracy.coverage_by_volume``: thirds are taken per queue by forecast (a
    small queue's busy hours are its own busiest, not the big queue's quiet ones); a third whose
    actuals all fall outside shows 0, and the width is the band's over the forecast, summed."""
    from benchmarks.real_accuracy import coverage_by_volume

    rows = []
    for queue, scale in (("big", 100.0), ("small", 1.0)):
        for k, p in enumerate((1.0, 2.0, 3.0) * 4):
            busy = p == 3.0
            rows.append({"queue": queue, "forecast": p * scale, "y": p * scale * (2.0 if busy else 1.0),
                         "lo_80": 0.9 * p * scale, "hi_80": 1.1 * p * scale, "lo_95": 0.5 * p * scale,
                         "hi_95": (1.5 if k < 3 else 3.0) * p * scale})
    out = coverage_by_volume(pd.DataFrame(rows))
    assert out.index.tolist() == ["quiet", "mid", "busy"]
    assert out["in_80"].tolist() == [1.0, 1.0, 0.0] and out.loc["busy", "in_95"] == 0.75
    np.testing.assert_allclose(out["width_80"], 0.2)


def test_the_accuracy_reports_weekday_site_keeps_its_open_hours_only():
    """``benchmarks.real_accuracy.weekday_series``: the bank's calls as a site open Sunday to
    Thursday from 07:00 keep exactly those rows, and its config closes Friday and Saturday."""
    from benchmarks.real_accuracy import Series, bank_config, empty_calendar, weekday_series

    ds = pd.date_range("1999-03-05", periods=7 * 48, freq="30min")        # a Friday, a whole week
    bank = Series("bank", bank_config(), pd.DataFrame({"queue": "bank", "ds": ds, "y": 1.0}), empty_calendar())
    got = weekday_series(bank)
    assert len(got.hist) == 5 * 34 and got.hist["ds"].dt.hour.min() == 7
    assert set(got.hist["ds"].dt.day_name()) == {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"}
    assert got.config.opening_hours.fri == "closed" and got.config.opening_hours.sun == "07:00-24:00"


def test_the_accuracy_reports_robustness_variants_cut_thin_and_shift_the_history():
    """``benchmarks.real_accuracy.variant``: ``--since`` keeps the history from that date on,
    ``--thin`` keeps each contact with the given probability (binomial: whole contacts, a tenth
    of them on average), and the series is named for both."""
    from benchmarks.real_accuracy import Series, bank_config, empty_calendar, variant

    ds = pd.date_range("1999-03-01", periods=28 * 48, freq="30min")
    bank = Series("bank", bank_config(), pd.DataFrame({"queue": "bank", "ds": ds, "y": 200.0}), empty_calendar())
    got = variant(bank, since="1999-03-15", thin=0.1)
    assert got.hist["ds"].min() == pd.Timestamp("1999-03-15") and len(got.hist) == 14 * 48
    y = got.hist["y"].to_numpy()
    assert (y == np.round(y)).all() and 19 < y.mean() < 21 and y.std() > 2       # binomial(200, 0.1): sd 4.2
    assert got.name == "bank (from 1999-03-15, thinned to 0.1)" and variant(bank).hist is bank.hist
    assert bank_config(interval_min=60).interval_min == 60
    # --level-shift: the volume from a day on times a factor, for good (a fall thins the days from
    # it, a rise the days before it)
    late = bank.hist["ds"] >= pd.Timestamp("1999-03-15")
    fell, rose = variant(bank, shift=("1999-03-15", 0.7)), variant(bank, shift=("1999-03-15", 1.25))
    assert (fell.hist.loc[~late, "y"] == 200).all() and 138 < fell.hist.loc[late, "y"].mean() < 142
    assert (rose.hist.loc[late, "y"] == 200).all() and 158 < rose.hist.loc[~late, "y"].mean() < 162
    assert fell.name == "bank (x0.7 from 1999-03-15)"


def test_earlier_forecasts_errors_join_the_daily_calibration():
    """A calm backtest (daily totals off by 1 %) after a stormy stretch (earlier forecasts off by
    +-10 %): with the record of those forecasts the daily widths take the storm in; only the
    queue's rows, days before the new forecast, the first two weeks of each earlier forecast and
    forecasts of the last 16 weeks count."""
    first = pd.Timestamp("2026-06-01")
    days = pd.date_range(first - pd.Timedelta(days=14), periods=14)
    residuals = pd.DataFrame({"origin": days[0], "ds": days + pd.Timedelta(hours=9), "y": 1010.0, "p": 1000.0})
    calm = daily_widths(residuals)
    rows = []
    for k, origin in enumerate(pd.date_range(first - pd.Timedelta(weeks=12), periods=12, freq="7D")):
        for d in range(21):                                     # three weeks each: the third is left out
            rows.append({"queue": "q", "origin": origin, "ds": origin + pd.Timedelta(days=d),
                         "y": 1000.0 * (1.1 if k % 2 else 0.9) * (5 if d >= 14 else 1), "p": 1000.0})
    record = pd.DataFrame(rows)
    other = record.assign(queue="other", y=record["y"] * 10)
    old = record.assign(origin=record["origin"] - pd.Timedelta(weeks=30), ds=record["ds"] - pd.Timedelta(weeks=30),
                        y=record["y"] * 10)
    used = forecast_record(pd.concat([record, other, old]), "q", first)
    lead = (record["ds"] - record["origin"]).dt.days
    assert len(used) == ((lead < 7 * CALIBRATED_WEEKS) & (record["ds"] < first)).sum() == 11 * 14 + 7
    assert (used["ds"] < first).all() and (used["queue"] == "q").all()
    stormy = daily_widths(residuals, used)
    for side in ("lower", "upper"):
        assert calm[side][0.8] < 1 and stormy[side][0.8] > 0.09 * 1000 / np.sqrt(1001)
    assert forecast_record(None, "q", first) is None and daily_widths(residuals, None) == calm


def test_the_accuracy_reports_next_day_scores_pool_days_per_weekday_and_per_week():
    """``benchmarks.real_accuracy.next_day_summary``: next-day forecasts made every day, scored
    with their absolute errors pooled per weekday of the day forecast and per week. Two weeks of
    Monday-Tuesday forecasts: the forecast is 10 off on every Monday and right on Tuesdays, mean4
    20 off on every day; the first week's Monday holds two intervals."""
    from benchmarks.real_accuracy import next_day_summary

    rows = []
    for week in range(2):
        for day, err in ((0, 10.0), (1, 0.0)):
            origin = pd.Timestamp("2026-01-05") + pd.Timedelta(days=7 * week + day)
            for k in range(2 if (week, day) == (0, 0) else 1):
                rows.append({"queue": "q", "origin": origin, "ds": origin + pd.Timedelta(hours=9 + k), "lead_day": 1,
                             "y": 100.0, "forecast": 100.0 + err, "mean4": 80.0, "snaive_week": 150.0,
                             "lo_80": 95.0 + err, "hi_80": 105.0 + err, "lo_95": 85.0 + err, "hi_95": 115.0 + err})
    # a row two days ahead, which no next-day score counts
    rows.append({**rows[-1], "ds": rows[-1]["ds"] + pd.Timedelta(days=1), "lead_day": 2, "forecast": 0.0})
    frame = pd.DataFrame(rows)
    # the run's daily bands: the first Monday's 200 calls outside its 80 % band, every other day inside
    days = frame.groupby(["queue", frame["ds"].dt.normalize().rename("ds")])["y"].sum().reset_index()
    days = days.assign(lead_day=[1, 1, 1, 1, 2], lo_80=[210.0, 90.0, 90.0, 90.0, 0.0],
                       hi_80=[250.0, 110.0, 110.0, 110.0, 0.0], lo_95=[150.0, 80.0, 80.0, 80.0, 0.0],
                       hi_95=[250.0, 120.0, 120.0, 120.0, 0.0])
    got = next_day_summary(frame, days).set_index(["level", "weekday"])
    mon, allday = got.loc[("interval", "Mon")], got.loc[("interval", "all")]
    assert mon["days"] == 2 and mon["forecast"] == pytest.approx(0.1) and mon["mean4"] == pytest.approx(0.2)
    assert got.loc[("interval", "Tue"), "forecast"] == 0.0 and allday["better_baseline"] == "mean4"
    assert allday["forecast"] == pytest.approx(30 / 500) and allday["ratio"] == pytest.approx(0.3)
    # week one: 20 off over 300 calls against mean4's 60; week two: 10 over 200 against 40
    assert allday["weeks_mean"] == pytest.approx((1 / 3 + 1 / 4) / 2) and allday["weeks_worst"] == pytest.approx(1 / 3)
    daily = got.loc[("daily", "Mon")]
    assert daily["forecast"] == pytest.approx(30 / 300) and daily["days"] == 2
    # bands: Monday's intervals (forecast 110) are outside their 80 % band (105-115), inside the 95 % (95-125)
    assert mon["in_80"] == pytest.approx(0.0) and mon["in_95"] == 1.0 and allday["in_80"] == pytest.approx(2 / 5)
    assert daily["in_80"] == 0.5 and got.loc[("daily", "all"), "in_80"] == 0.75 and daily["in_95"] == 1.0
    assert np.isnan(next_day_summary(frame).set_index(["level", "weekday"]).loc[("daily", "all"), "in_80"])
