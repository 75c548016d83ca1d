"""The contract every forecasting model keeps (CONVENTIONS.md 12), parametrised over the registry:
one row per open interval of the horizon for every series, in grid order and gap-free; finite
values >= 0; lo <= mean <= hi once the backtest's conformal intervals are added; and fit then
predict equals forecast."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from forecaster.core.grid import future_grid
from forecaster.demand.context import make_context
from forecaster.demand.intervals import conformal_widths, with_intervals
from forecaster.demand.models import REGISTRY, ForecastModel, point_forecast, race, register
from forecaster.demand.selection import backtest, rank
from tests.conftest import ROOT

DEMO = ROOT / "data" / "demo"
AS_OF = dt.date(2026, 11, 22)
SHAPES = {"direct_mail": (3, 0.4), "email": (0, 0.4)}


def context(config, calendar):
    ctx = make_context(config, calendar, dt.date(2026, 5, 1), dt.date(2027, 1, 31))
    ctx.shapes = dict(SHAPES)
    return ctx


def test_the_race_is_the_registered_production_models_in_order():
    assert race() == ("snaive_week", "mean4", "topdown", "topdown_pooled", "mstl")
    assert not REGISTRY["median"].in_race         # the selection builds its own: the best three's median
    assert not REGISTRY["topdown_nocmp"].in_race
    assert all(issubclass(cls, ForecastModel) and cls.alias == name for name, cls in REGISTRY.items())


def test_an_alias_cannot_be_registered_twice():
    class Impostor(ForecastModel):
        alias = "mean4"

    with pytest.raises(ValueError, match="already registered as 'mean4'"):
        register(Impostor)


@pytest.mark.parametrize("alias", [a for a, cls in REGISTRY.items() if cls.__module__.startswith("forecaster.")])
def test_model_contract(alias, history, calendar, demo_config):
    model_cls = REGISTRY[alias]
    grid = future_grid(demo_config, demo_config.queue_names, AS_OF + dt.timedelta(days=1), 14)

    model = model_cls(context(demo_config, calendar))
    with pytest.raises(RuntimeError, match="before fit"):
        model.predict(grid)
    fitted = model.fit(history)
    assert fitted is model and model.history_ is history          # fit returns self, state in trailing _
    out = model.predict(grid)

    # one row per open interval of every series, in grid order, with no gaps or repeats
    assert list(out.columns) == ["queue", "ds", alias]
    assert out[["queue", "ds"]].equals(grid[["queue", "ds"]].reset_index(drop=True))
    for queue, rows in out.groupby("queue"):
        assert len(rows) == (grid["queue"] == queue).sum() and rows["ds"].is_monotonic_increasing
        assert not rows["ds"].duplicated().any()
    point = out[alias].to_numpy()
    assert np.isfinite(point).all() and (point >= 0).all() and point.sum() > 0

    # fit + predict equals forecast (a fresh context: nothing carried over from the first fit)
    again = model_cls(context(demo_config, calendar)).forecast(history, grid)
    pd.testing.assert_frame_equal(out, again)

    # intervals from the model's own backtest errors keep lo <= mean <= hi at both levels
    origin = pd.Timestamp(AS_OF) - pd.Timedelta(days=6)
    res, failures = backtest(history, context(demo_config, calendar), [origin], 7, models=(alias,))
    assert not failures and len(res)
    band = with_intervals(point, conformal_widths(res))
    assert (band["lo_95"] <= band["lo_80"]).all() and (band["lo_80"] <= point).all()
    assert (point <= band["hi_80"]).all() and (band["hi_80"] <= band["hi_95"]).all()
    assert (band["hi_80"] > band["lo_80"]).any()


def test_the_median_in_a_backtest_is_the_median_of_its_members(history, calendar, demo_config):
    """The backtest combines the members' forecasts at each origin instead of refitting them: the
    numbers must be those of the combination fitted on its own."""
    origin = pd.Timestamp(AS_OF) - pd.Timedelta(days=6)
    res, failures = backtest(history, context(demo_config, calendar), [origin], 7, models=(*race(), "median"))
    assert not failures
    wide = res.pivot_table(index=["queue", "ds"], columns="model", values="p")
    assert np.allclose(wide["median"], wide[list(REGISTRY["median"].members)].median(axis=1))
    alone, _ = backtest(history, context(demo_config, calendar), [origin], 7, models=("median",))
    assert np.allclose(alone["p"].to_numpy(), res.loc[res["model"] == "median", "p"].to_numpy())


@pytest.mark.parametrize("scores, first, why", [
    ({"mean4": 0.20, "topdown": 0.19, "median": 0.195}, "median", "no model beats the combination"),
    ({"mean4": 0.20, "topdown": 0.15, "median": 0.19}, "topdown", "at least 10% below the combination"),
    ({"mean4": 0.20, "topdown": 0.18}, "topdown", "lowest backtest WAPE"),
    ({}, "mean4", "no backtest score"),
])
def test_selection_keeps_the_combination_unless_a_model_is_clearly_better(scores, first, why):
    ranked, reason = rank(["mean4", "topdown", "median"] if scores.get("median") or not scores else
                          ["mean4", "topdown"], scores)
    assert ranked[0] == first and why in reason


@pytest.mark.parametrize("previous, scores, first, why", [
    # a single model the plan had stays while still 5 % below the combination (entering took 10 %)
    ("topdown", {"mean4": 0.20, "topdown": 0.18, "median": 0.195}, "topdown", "kept from the plan before"),
    ("topdown", {"mean4": 0.20, "topdown": 0.19, "median": 0.195}, "median", "no longer 5% below"),
    # ... and while no other model is 5 % below it
    ("mean4", {"mean4": 0.17, "topdown": 0.165, "median": 0.20}, "mean4", "kept from the plan before"),
    ("mean4", {"mean4": 0.17, "topdown": 0.15, "median": 0.20}, "topdown", "switched from mean4"),
    # the combination, or a model not in the race, changes nothing
    ("median", {"mean4": 0.20, "topdown": 0.15, "median": 0.19}, "topdown", "at least 10% below the combination"),
    ("mstl", {"mean4": 0.20, "topdown": 0.19, "median": 0.195}, "median", "no model beats the combination"),
])
def test_the_plans_model_stays_unless_a_new_choice_is_clearly_better(previous, scores, first, why):
    ranked, reason = rank(["mean4", "topdown", "median"], scores, previous)
    assert ranked[0] == first and why in reason
    assert sorted(ranked) == ["mean4", "median", "topdown"]


@pytest.mark.parametrize("alias", [*race(), "median"])
def test_the_same_planned_campaign_raises_every_models_forecast(alias, history, calendar, demo_config):
    """The campaign layer: whichever model is chosen, the planned direct mailing of 1 Dec (about 510
    extra billing calls over its response days) is in its forecast, and nothing is added before it."""
    grid = future_grid(demo_config, ["voice_billing"], AS_OF + dt.timedelta(days=1), 14)
    planned = (calendar["start_ts"] == "2026-12-01") & (calendar["channel"] == "direct_mail")
    assert planned.sum() == 1
    with_it = point_forecast(alias, history, grid, context(demo_config, calendar))
    without = point_forecast(alias, history, grid, context(demo_config, calendar[~planned]))
    day = grid["ds"].dt.normalize().to_numpy()
    extra = pd.Series(with_it - without).groupby(day).sum()
    response = extra[(extra.index >= pd.Timestamp("2026-12-01")) & (extra.index <= pd.Timestamp("2026-12-08"))]
    assert 250 < response.sum() < 900, (alias, response.round(1).to_dict())
    assert extra[extra.index < pd.Timestamp("2026-12-01")].abs().max() < 1e-6




def test_on_special_days_only_the_members_that_model_holidays_vote():
    """Yom Kippur in the week: the four-week mean and the seasonal naive put an ordinary Monday
    there and would outvote the top-down model, whose holiday term knows better."""
    from forecaster.demand.models.combination import MedianCombination

    mean4, snaive, topdown, pooled = (np.array([1500.0, 1500.0, 1400.0]), np.array([1450.0, 1600.0, 1500.0]),
                                      np.array([1480.0, 160.0, 1450.0]), np.array([1470.0, 200.0, 1430.0]))
    special = np.array([False, True, False])
    got = MedianCombination.combine([mean4, snaive, topdown], ["mean4", "snaive_week", "topdown"], special)
    assert got.tolist() == [1480.0, 160.0, 1450.0]
    got = MedianCombination.combine([mean4, topdown, pooled], ["mean4", "topdown", "topdown_pooled"], special)
    assert got.tolist() == [1480.0, 180.0, 1430.0]          # the two top-down models' median: their mean
    plain = MedianCombination.combine([mean4, snaive, pooled])
    assert plain.tolist() == [1470.0, 1500.0, 1430.0]
    assert MedianCombination.combine([mean4, snaive], ["mean4", "snaive_week"], special).tolist() == [1475.0, 1550.0, 1450.0]


def test_the_median_takes_the_top_down_forecast_on_a_worked_holiday(history, calendar, demo_config):
    """The demo's 24 December (Christmas Eve, a special day its sites work): the median of a
    baseline, the seasonal naive and a top-down model is the top-down model's forecast there."""
    from forecaster.demand.models.combination import MedianCombination

    grid = future_grid(demo_config, ["voice_billing"], dt.date(2026, 12, 21), 7)
    ctx = context(demo_config, calendar)
    members = ("mean4", "snaive_week", "topdown")
    points = {m: point_forecast(m, history, grid, ctx) for m in members}
    median = MedianCombination(ctx, members).forecast(history, grid)["median"].to_numpy()
    eve = (grid["ds"].dt.date == dt.date(2026, 12, 24)).to_numpy()
    assert eve.any() and np.allclose(median[eve], points["topdown"][eve])
    assert np.allclose(median[~eve], np.median(np.vstack(list(points.values())), axis=0)[~eve])


def _weekdays(shape_of, weeks=24, end="2026-06-26", per_interval=200.0, seed=3):
    """One queue, weekdays 08:00-18:00 in 30 minutes for ``weeks`` weeks up to ``end`` (a Friday),
    Poisson counts around ``per_interval`` times the day's shape ``shape_of(day)`` (20 shares)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(end=end, periods=5 * weeks)
    rows = []
    for d in days:
        shape = shape_of(d)
        for i, ts in enumerate(pd.date_range(d + pd.Timedelta(hours=8), periods=20, freq="30min")):
            rows.append((ts, rng.poisson(per_interval * 20 * shape[i])))
    return pd.DataFrame(rows, columns=["ds", "y"]).assign(queue="voice")


def test_the_intraday_profile_window_is_chosen_by_its_own_backtest():
    """A queue whose intraday shape moved to the afternoon eight weeks ago gets a short window (its
    last weeks hold only the new shape); a queue whose shape never moved gets the longest window. A half-life weights recent days more: one old morning day and one recent afternoon day
    give a profile nearer the afternoon's."""
    from forecaster.demand.models.topdown import PROFILE_CHOICES, profile_choice, weekday_profile

    morning = np.linspace(2, 1, 20) / np.linspace(2, 1, 20).sum()
    afternoon = morning[::-1]
    moved = _weekdays(lambda d: afternoon if d > pd.Timestamp("2026-06-26") - pd.Timedelta(weeks=8) else morning)
    steady = _weekdays(lambda d: morning)
    assert profile_choice(moved, set())["voice"].window[0] <= 4
    assert profile_choice(steady, set())["voice"].window[0] == max(w for w, _ in PROFILE_CHOICES)

    two = pd.concat([_weekdays(lambda d: morning, weeks=1, end="2026-06-05", per_interval=1e6),
                     _weekdays(lambda d: afternoon, weeks=1, end="2026-06-26", per_interval=1e6)])
    first_slot = pd.MultiIndex.from_tuples([("voice", 0, 8 * 60)])
    equal = weekday_profile(two, set(), weeks=4).reindex(first_slot).iloc[0]
    recent = weekday_profile(two, set(), weeks=4, halflife=1.0).reindex(first_slot).iloc[0]
    assert equal == pytest.approx((morning[0] + afternoon[0]) / 2, rel=0.01)
    assert recent == pytest.approx((morning[0] + 8 * afternoon[0]) / 9, rel=0.01)     # 3 weeks older: 1/8 the weight


def test_handling_time_ahead_without_handling_times_in_the_actuals(demo_config):
    """Actuals need not carry ``aht_s`` (the API's history may lack the column): each queue's
    handling time ahead is then the config's; with it, the contact-weighted recent mean."""
    from forecaster.demand.aht import aht_forecast

    queue = demo_config.queues[0]
    ds = pd.date_range("2026-03-02 09:00", periods=14, freq="D")
    hist = pd.DataFrame({"queue": queue.name, "ds": ds, "y": 10.0})
    grid = pd.DataFrame({"queue": queue.name, "ds": ds + pd.Timedelta(weeks=2)})
    np.testing.assert_allclose(aht_forecast(hist, grid, demo_config), queue.aht_s)
    np.testing.assert_allclose(aht_forecast(hist.assign(aht_s=123.0), grid, demo_config), 123.0)


def _eve_forecast(config, weekday_share, eves_seen, eves_ahead, seen_level):
    """Daily top-down forecasts of 29 June - 12 July 2026 from 12 weeks of weekdays whose volume is
    ``weekday_share`` (Monday first) of a Monday's, with the ``eves_seen`` at ``seen_level`` times
    their weekday's usual volume and ``eves_ahead`` marked as eves."""
    def shape(d):
        return np.full(20, weekday_share[d.weekday()] * (seen_level if d in eves_seen else 1.0) / 20)

    hist = _weekdays(shape, weeks=12, per_interval=50.0)
    grid = future_grid(config, ["voice"], dt.date(2026, 6, 29), 14)
    none = pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"])
    ctx = make_context(config, none, hist["ds"].min().date(), dt.date(2026, 7, 31))
    ctx.holidays = ctx.holidays.assign(eve=ctx.holidays.index.isin([*eves_seen, *eves_ahead]).astype(int))
    return pd.Series(point_forecast("topdown", hist, grid, ctx)).groupby(grid["ds"].dt.normalize().to_numpy()).sum()


def test_a_special_day_ahead_gets_at_most_the_effect_the_history_has_seen(config):
    """A holiday eve the history holds only on a Wednesday at 0.6 of a Monday's volume, which ran
    80 % above its usual level: the next eve, on a Monday, is forecast 80 % above an ordinary
    Monday, as seen. The eve's column is scaled by the weekday's volume, and its coefficient from
    the Wednesday, carried to the busier weekday, would make it 1.8 ** (1 / 0.6) = 2.7 times an
    ordinary Monday (on a Friday at a third of a Monday's: 5.8 times)."""
    eve_seen, eve_ahead = pd.Timestamp("2026-06-03"), pd.Timestamp("2026-07-06")       # a Wednesday, a Monday
    daily = _eve_forecast(config, [1, 1, 0.6, 1, 1, 1, 1], [eve_seen], [eve_ahead], 1.8)
    assert daily[eve_ahead] / daily[eve_ahead - pd.Timedelta(days=7)] == pytest.approx(1.8, rel=0.15)


def test_an_eve_on_a_day_short_anyway_is_not_cut_like_a_full_days(config):
    """A real bank's eves from Sunday to Thursday ran at 5-50 % of their weekday's volume, its eves
    on a Friday (a third of a weekday's volume, short anyway) at 86-98 % of an ordinary Friday; one
    eve term, scaled by the weekday's volume, forecast those Fridays 21-48 % low. Eves on short
    weekdays (under SHORT_DAY of the busiest) have an effect of their own: with weekday eves seen
    at 40 % of their weekday, a Thursday eve ahead comes out near 40 % of an ordinary Thursday
    and a Friday eve near an ordinary Friday (no eve on a short day seen)."""
    seen = [pd.Timestamp(d) for d in ("2026-04-14", "2026-05-06", "2026-06-01")]        # Tue, Wed, Mon
    thursday, friday = pd.Timestamp("2026-07-02"), pd.Timestamp("2026-07-10")
    daily = _eve_forecast(config, [1, 1, 1, 1, 1 / 3, 1, 1], seen, [thursday, friday], 0.4)
    assert daily[thursday] / daily[thursday + pd.Timedelta(days=7)] == pytest.approx(0.4, rel=0.2)
    assert daily[friday] / daily[friday - pd.Timedelta(days=7)] == pytest.approx(1.0, rel=0.1)


def test_a_single_eve_before_an_odd_holiday_keeps_its_own_effect(config):
    """An eve the history holds once, at its weekday's usual level, just before two open holidays
    that the one holiday term cannot both fit (a day at 5 % of its usual volume, the next at 60 %).
    In a joint fit with AR errors the eve's coefficient also served to predict those days' misfit
    from the day before them: here the next eve came out at 0.46 of an ordinary day, and on a real
    bank's history of 15 weeks, Yom Kippur's eve (a Sunday) at 1.6 times an ordinary Sunday, after
    one eve seen on an ordinary Friday. Special-day effects are fitted by least squares before the
    ARIMA fit (as the day-of-month terms are), so the eve ahead is forecast near its usual level."""
    eve_seen, eve_ahead = pd.Timestamp("2026-06-03"), pd.Timestamp("2026-07-07")       # a Wednesday, a Tuesday
    holidays = {pd.Timestamp("2026-06-04"): 0.05, pd.Timestamp("2026-06-05"): 0.6}

    def shape(d):
        return np.full(20, holidays.get(d, 1.0) / 20)

    hist = _weekdays(shape, weeks=12, per_interval=50.0)
    grid = future_grid(config, ["voice"], dt.date(2026, 6, 29), 14)
    none = pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"])
    ctx = make_context(config, none, hist["ds"].min().date(), dt.date(2026, 7, 31))
    hol = ctx.holidays
    ctx.holidays = hol.assign(eve=hol.index.isin([eve_seen, eve_ahead]).astype(int),
                              holiday=hol.index.isin(list(holidays)).astype(int), closed=0)
    daily = pd.Series(point_forecast("topdown", hist, grid, ctx)).groupby(grid["ds"].dt.normalize().to_numpy()).sum()
    assert daily[eve_ahead] / daily[eve_ahead - pd.Timedelta(days=7)] == pytest.approx(1.0, rel=0.15)


def test_the_daily_level_follows_the_month_once_the_history_holds_four_months(config):
    """Billing and pay cycles: a queue whose contacts run 25 % above its level at the turn of the
    month and 25 % below it mid-month gets that cycle ahead from the top-down model's day-of-month
    terms once its history spans MONTHLY_MIN_DAYS; a shorter history (too few months to tell a
    cycle) gets a flat month."""
    from forecaster.features.design import MONTHLY_MIN_DAYS

    def cycle(d):
        return 1 + 0.25 * np.cos(2 * np.pi * (np.asarray(d.day) - 1) / np.asarray(d.days_in_month))

    hist = _weekdays(lambda d: np.full(20, cycle(d) / 20), weeks=30, per_interval=50.0)
    grid = future_grid(config, ["voice"], dt.date(2026, 6, 29), 42)
    days = pd.DatetimeIndex(grid["ds"].dt.normalize().unique())
    start, middle = days.day <= 3, (days.day >= 8) & (days.day <= 24)
    truth = cycle(days[start]).mean() / cycle(days[middle]).mean()

    def rise(h):
        none = pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"])
        ctx = make_context(config, none, h["ds"].min().date(), dt.date(2026, 8, 31))
        daily = pd.Series(point_forecast("topdown", h, grid, ctx)).groupby(grid["ds"].dt.normalize().to_numpy()).sum()
        return daily[start].mean() / daily[middle].mean(), ctx.month_cycles

    assert start.sum() == 4 and truth > 1.4                  # 1-3 July and 3 August: open weekdays
    ratio, cycles = rise(hist)
    assert ratio == pytest.approx(truth, rel=0.08)
    end, cycle = cycles["voice"]                              # what the run records for planners to read
    assert end == hist["ds"].max().normalize()
    assert cycle["peak_day"] in (1, 2, 30) and cycle["peak_pct"] == pytest.approx(25, abs=5)
    assert cycle["low_day"] in (15, 16, 17) and cycle["low_pct"] == pytest.approx(-25, abs=5)
    short = hist[hist["ds"] >= hist["ds"].max() - pd.Timedelta(days=MONTHLY_MIN_DAYS - 30)]
    ratio, cycles = rise(short)
    assert ratio == pytest.approx(1.0, abs=0.08) and cycles == {}


def test_the_daily_level_follows_a_lasting_step_and_finds_none_where_there_is_none(config):
    """A queue whose volume fell by 30 % four weeks ago (a new self-service option, a client lost):
    the daily ARIMA alone reverts to the level of its whole history, so top-down forecast the next
    two weeks 1.15 times the new level; with the step found (:func:`level_shift`) it forecasts the
    new level, and the run records the step. A queue without one gets none."""
    none = pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"])
    flat = np.full(20, 1 / 20)
    step = pd.Timestamp("2026-06-01")                                   # four weeks before the end
    grid = future_grid(config, ["voice"], dt.date(2026, 6, 29), 14)

    def level(hist):
        ctx = make_context(config, none, hist["ds"].min().date(), dt.date(2026, 7, 31))
        point = pd.Series(point_forecast("topdown", hist, grid, ctx)).groupby(grid["ds"].dt.normalize().to_numpy()).sum()
        return point.median(), ctx.level_shifts["voice"][1]

    fell = _weekdays(lambda d: flat * (0.7 if d >= step else 1.0), weeks=40, per_interval=50.0)
    recent = fell[fell["ds"] >= step].groupby(fell["ds"].dt.normalize())["y"].sum().median()
    forecast, shift = level(fell)
    assert forecast / recent == pytest.approx(1.0, abs=0.05)
    assert shift["from"] == "2026-06-01" and shift["change_pct"] == pytest.approx(-30, abs=3)
    steady = _weekdays(lambda d: flat, weeks=40, per_interval=50.0)
    assert level(steady)[1] is None
    # the run records it for `runs show` and tells the planner in one line
    from forecaster.demand.selection import run_forecast

    info = run_forecast(fell, none, config, dt.date(2026, 6, 26), 7, origins=1).info
    assert info["queues"]["voice"]["level_shift"]["from"] == "2026-06-01"
    assert any("daily volume moved by -3" in w and "2026-06-01" in w for w in info["warnings"])
    from forecaster.cli.forecasting import queue_notes

    shown = [line for line in queue_notes("voice", info["queues"]["voice"]) if line.startswith("Level shift for voice")]
    assert len(shown) == 1 and re.search(r"history to 2026-06-26\): -[23]\d\.\d % from 2026-06-01 on$", shown[0])


def test_the_first_week_follows_a_level_that_rose_over_weeks_and_later_weeks_revert(config, monkeypatch):
    """A queue whose volume rose by 12 % over three weeks (too little and too gradual for a level
    shift) and held it for two more, with 8 % day-to-day noise. AR(2) errors revert to the level the
    whole history implies: alone, they forecast the next week about 8 % below the last weeks'. The
    median with the IMA(1,1) fit and the recent level follows them. From the second week ahead on,
    the AR(2) fit alone (:func:`~forecaster.demand.models.topdown.daily_level`)."""
    from forecaster.demand.models import topdown

    rng = np.random.default_rng(5)
    days = pd.bdate_range(end="2026-06-26", periods=5 * 40)
    shock = dict(zip(days, np.exp(rng.normal(0, 0.08, len(days)))))
    start = pd.Timestamp("2026-05-18")                      # six weeks before the end

    def shape(d):
        return np.full(20, shock[d] * (1 + 0.12 * min(1.0, max(0.0, (d - start).days / 21))) / 20)

    hist = _weekdays(shape, weeks=40, per_interval=50.0)
    none = pd.DataFrame(columns=["campaign_id", "channel", "start_ts", "end_ts", "queues", "reach"])
    grid = future_grid(config, ["voice"], dt.date(2026, 6, 29), 21)

    def daily():
        ctx = make_context(config, none, hist["ds"].min().date(), dt.date(2026, 7, 31))
        point = pd.Series(point_forecast("topdown", hist, grid, ctx)).groupby(grid["ds"].dt.normalize().to_numpy()).sum()
        return point, ctx.level_shifts["voice"][1]

    totals = hist.groupby(hist["ds"].dt.normalize())["y"].sum()
    recent = totals[totals.index >= pd.Timestamp("2026-06-08")].mean()     # the last three weeks
    first, later = slice("2026-06-29", "2026-07-03"), slice("2026-07-10", None)   # 3-7 and 14-27 days on
    level, shift = daily()
    assert shift is None
    monkeypatch.setattr(topdown, "daily_level", lambda fits, y, xh, xf: fits[:, 0])
    ar2, _ = daily()
    assert ar2[first].mean() / recent < 0.94
    assert level[first].mean() / recent == pytest.approx(1.0, abs=0.05)
    assert np.allclose(level[later], ar2[later])


def test_the_daily_level_is_the_median_of_three_the_first_week_and_the_fits_on_special_days():
    """Per day ahead: the median of the AR(2) fit, the IMA(1,1) fit and the same weekday's mean over
    the last four weeks; on a special day (a term the recent mean knows nothing of) the mean of the
    fits; on a short day, without an IMA fit, the median of the other two; from the first week
    ahead to the second, a fade to the AR(2) fit alone."""
    from forecaster.demand.models.topdown import daily_level

    days = pd.bdate_range("2026-01-05", "2026-03-13")        # ends on a Friday
    y = pd.Series(100.0, index=days)
    y.iloc[-5:] = 130.0                                      # the last week: the recent mean 107.5
    xh = pd.DataFrame({"eve": 0.0}, index=days)
    ahead = pd.bdate_range("2026-03-16", periods=10)
    xf = pd.DataFrame({"eve": 0.0}, index=ahead)
    xf.iloc[1, 0] = 1.0                                      # an eve on the Tuesday
    fits = np.column_stack([np.full(10, 100.0), np.full(10, 140.0)])
    fits[2, 1] = np.nan                                      # a short Wednesday: no IMA fit
    level = daily_level(fits, y, xh, xf)
    assert level[0] == pytest.approx(107.5)                  # 3 days ahead
    assert level[1] == pytest.approx(120.0)
    assert level[2] == pytest.approx(103.75)
    assert level[5] == pytest.approx(100 + 7.5 * 4 / 7)      # 10 days ahead: 4/7 of the way back
    assert level[9] == pytest.approx(100.0)                  # 14 days ahead


def test_the_ima_fit_sees_the_full_weekdays_only_and_short_days_ahead_take_the_other_two(monkeypatch):
    """A site busy Sunday to Thursday, at a third of that on Fridays and an eighth on Saturdays:
    the IMA(1,1) fit (``local``) is given the full weekdays only, in history and ahead (a real
    bank's short Fridays pulled its level down), and the short days ahead get no value from it,
    so their level is the median of the other two (:func:`~forecaster.demand.models.topdown.daily_fits`)."""
    from forecaster.demand.models import topdown

    rng = np.random.default_rng(3)
    days = pd.date_range("2026-01-04", periods=70, freq="D")               # ten weeks from a Sunday
    size = np.array([1500, 1500, 1500, 1500, 500, 190, 1500])[days.weekday]   # Monday first
    y = pd.Series(size * np.exp(rng.normal(0, 0.05, len(days))), index=days)
    ahead = pd.date_range("2026-03-15", periods=7, freq="D")

    def design(idx):
        x = pd.DataFrame({f"wd{k}": (idx.weekday == k).astype(float) for k in range(1, 7)}, index=idx)
        return x.assign(trend=np.arange(len(idx), dtype=float) / 100)

    seen = {}
    real = topdown._fits

    def spy(model, series, cols, engine):
        seen[str(model)] = {q: (y.index, xf.index) for q, (y, _, xf) in series.items()}
        return real(model, series, cols, engine)

    monkeypatch.setattr(topdown, "_fits", spy)
    assert list(topdown.full_weekdays(y, design(days))) == [True, True, True, True, False, False, True]
    level = pd.Series(topdown.daily_fits({"q": (y, design(days), design(ahead))})["q"], index=ahead)
    past, future = seen["local"]["q"]
    assert not past.weekday.isin([4, 5]).any() and len(past) == 50
    assert not future.weekday.isin([4, 5]).any() and len(future) == 5
    assert len(seen["arimax"]["q"][0]) == 70
    assert level[ahead.weekday == 4].iloc[0] == pytest.approx(500, rel=0.15)
    assert level[ahead.weekday == 5].iloc[0] == pytest.approx(190, rel=0.15)
    assert level[ahead.weekday == 0].iloc[0] == pytest.approx(1500, rel=0.1)


def test_a_weekday_whose_shape_moved_takes_its_own_profile_window():
    """Every day of the week open 08:00-18:00; only Saturday's calls moved to the afternoon three
    weeks ago (as a Saturday's do where they start when the Sabbath ends). The queue keeps its long
    window, Saturday takes a short one of its own, its profile is the afternoon's, and ``runs show``
    says so."""
    from forecaster.cli.forecasting import queue_notes
    from forecaster.demand.models.topdown import PROFILE_CHOICES, chosen_weekday_profile, profile_choice
    from forecaster.demand.selection import profile_record

    rng = np.random.default_rng(11)
    morning = np.linspace(2, 1, 20) / np.linspace(2, 1, 20).sum()
    afternoon = morning[::-1]
    end = pd.Timestamp("2026-06-28")
    rows = []
    for d in pd.date_range(end=end, periods=24 * 7, freq="D"):
        shape = afternoon if d.weekday() == 5 and d > end - pd.Timedelta(weeks=3) else morning
        for i, ts in enumerate(pd.date_range(d + pd.Timedelta(hours=8), periods=20, freq="30min")):
            rows.append((ts, rng.poisson(200 * 20 * shape[i])))
    hist = pd.DataFrame(rows, columns=["ds", "y"]).assign(queue="voice")

    choice = profile_choice(hist, set())["voice"]
    assert choice.window[0] == 16 and set(choice.weekdays) == {5}
    assert choice.of(5) in PROFILE_CHOICES and choice.of(5)[0] <= 4 and choice.of(0) == choice.window
    profile = chosen_weekday_profile(hist, set()).unstack(level=2)
    assert profile.loc[("voice", 5), 8 * 60] == pytest.approx(afternoon[0], rel=0.1)
    assert profile.loc[("voice", 0), 8 * 60] == pytest.approx(morning[0], rel=0.05)
    record = profile_record(choice)                                  # as run_forecast records it
    assert record["own_weekdays"] == {"Sat": {"weeks": choice.of(5)[0], "halflife_weeks": choice.of(5)[1]}}
    note = queue_notes("voice", {"profile": record})[0]
    assert note.startswith("Intraday profile for voice") and f"; Sat its own, the last {choice.of(5)[0]} ordinary weeks" in note
