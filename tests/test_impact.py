"""Campaign impact: recovering known effects, pooling, planned campaigns, spikes, agent-hours, CLI."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import optimize, stats

from forecaster.campaigns import effects
from forecaster.cli.app import cli
from forecaster.core.config import load_config
from forecaster.core.grid import future_grid
from forecaster.features.adstock import Activity, Carryover, Response, adstock
from tests.conftest import TINY_CONFIG

START, AS_OF = dt.date(2025, 9, 1), dt.date(2026, 8, 30)
PER_1000 = 4.0           # true extra contacts per 1,000 reached, all on the voice queue
SHAPE = Carryover(lag_days=1, decay=0.5, ramp_days=1)      # the true carry-over


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    p = tmp_path_factory.mktemp("site") / "site.yaml"
    p.write_text(TINY_CONFIG)
    return load_config(p)


@pytest.fixture(scope="module")
def world(site):
    """A year of a voice queue with 14 mailings of known size, one unexplained spike, and the truth."""
    rng = np.random.default_rng(7)
    grid = future_grid(site, ["voice"], START, (AS_OF - START).days + 1)
    day = grid["ds"].dt.normalize()
    days = pd.date_range(START - dt.timedelta(days=35), AS_OF, freq="D")
    starts = pd.date_range("2025-10-07", "2026-08-04", freq="23D")[:14]
    reach = rng.integers(20, 80, len(starts)) * 1000
    cal = pd.DataFrame({"campaign_id": [f"M{i:02d}" for i in range(len(starts))], "name": "mailing",
                        "channel": "direct_mail", "start_ts": starts, "end_ts": starts + pd.Timedelta(hours=23),
                        "queues": [["voice"]] * len(starts), "reach": reach})
    truth, extra_per_day = {}, pd.Series(0.0, index=days)
    for c in cal.itertuples():
        x = np.zeros(len(days))
        x[days.get_loc(c.start_ts.normalize())] = c.reach / 1000
        kernel_days = adstock(x, *SHAPE)
        response = PER_1000 * c.reach / 1000 * kernel_days / kernel_days.sum()
        resp = pd.Series(response, index=days)
        open_resp = resp[resp.index.weekday < 5]                 # closed at weekends: those responses are lost
        truth[c.campaign_id] = open_resp.sum()
        extra_per_day = extra_per_day.add(open_resp, fill_value=0.0)
    level = 400 * np.where(day.dt.weekday == 0, 1.2, 1.0)
    spike_day = pd.Timestamp("2026-08-12")                      # a Wednesday with no campaign near it
    share = 1 / 20                                              # 20 open half-hours a day
    mean = level * share + extra_per_day.reindex(day).fillna(0).to_numpy() * share
    mean = np.where(day == spike_day, mean * 1.6, mean)
    actuals = pd.DataFrame({"queue": "voice", "interval_start": grid["ds"], "contacts": rng.poisson(mean).astype(float),
                            "aht_s": 300.0})
    return actuals, cal, pd.Series(truth), spike_day


@pytest.fixture(scope="module")
def result(world, site):
    actuals, cal, _, _ = world
    return effects.past_impact(actuals, cal, site, AS_OF)


def test_known_campaign_effects_are_recovered_with_honest_intervals(world, result):
    _, _, truth, _ = world
    got = result["totals"].set_index("campaign_id")
    error = got["extra_contacts"] / truth.reindex(got.index) - 1
    assert result["shapes"]["direct_mail"].lag_days in (0, 1, 2)                 # lag near the true 1 day
    assert error.abs().median() < 0.15
    covered = (got["lo_80"] <= truth) & (truth <= got["hi_80"])
    assert covered.mean() >= 0.6
    assert got["extra_contacts"].sum() == pytest.approx(truth.sum(), rel=0.1)


def test_response_curve_per_channel(world, result):
    _, cal, _, _ = world
    curves = effects.response_curves(result, cal).set_index(["channel", "queue"])
    row = curves.loc[("direct_mail", "voice")]
    assert row["campaigns"] == 14 and row["peak_day"] == row["lag_days"] + result["shapes"]["direct_mail"].ramp_days
    # per 1,000 reached on open days: the weekend share of the response is lost, as in the data
    assert 0.5 * PER_1000 < row["per_1000"] <= 1.1 * PER_1000
    assert row["per_1000_p10"] <= row["per_1000"] <= row["per_1000_p90"]


def _weekday_world(rng, days):
    """Busy weekdays of 1,800 contacts (sd 300), quiet Saturdays and Sundays of 300 (sd 40); one
    campaign whose 50 contacts per unit fall on three Saturdays."""
    wd = days.weekday
    base = pd.DataFrame({f"wd{d}": (wd == d).astype(float) for d in range(7)}, index=days)
    busy = wd < 5
    col = np.zeros(len(days))
    col[np.flatnonzero(wd == 5)[[10, 20, 30]]] = [1.0, 0.6, 0.3]
    y = np.where(busy, 1800.0, 300.0) + 50.0 * col + rng.normal(0, np.where(busy, 300.0, 40.0))
    return pd.Series(y, index=days), base, pd.DataFrame({"c": col}, index=days)


def test_a_response_on_quiet_days_gets_the_quiet_days_error_not_the_busy_days():
    """One residual variance for all days would give the campaign about six times its real error
    (the busy days' noise); weighted by each weekday's variance, the stated standard error is
    what 300 repeated draws show, and the estimate is unbiased."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-01-05", periods=280, freq="D")
    betas, ses = [], []
    for _ in range(300):
        y, base, cmp = _weekday_world(rng, days)
        fit = effects.fit_queue(y, base, cmp)
        betas.append(fit["beta"]["c"])
        ses.append(fit["se"]["c"])
    spread, stated = float(np.std(betas, ddof=1)), float(np.mean(ses))
    assert 0.8 < stated / spread < 1.25
    assert abs(np.mean(betas) - 50.0) < 3 * spread / np.sqrt(len(betas))
    y, base, cmp = _weekday_world(rng, days)
    x = np.hstack([base.to_numpy(), cmp.to_numpy()])
    resid = y.to_numpy() - x @ np.linalg.lstsq(x, y.to_numpy(), rcond=None)[0]
    one_variance_se = np.sqrt(resid @ resid / (len(y) - x.shape[1]) * np.linalg.inv(x.T @ x)[-1, -1])
    assert one_variance_se > 3 * spread


def test_a_weekday_seldom_open_takes_every_days_noise():
    days = pd.date_range("2026-01-05", periods=70, freq="D")
    open_days = days[(days.weekday < 5) | (days < pd.Timestamp("2026-01-20"))]   # two weekends only
    resid = np.where(open_days.weekday < 5, 10.0, 1.0)
    v = effects.noise_variance(resid, open_days)
    assert np.allclose(v[open_days.weekday < 5], 100.0)
    assert np.allclose(v[open_days.weekday >= 5], np.mean(resid ** 2))


def test_partial_pooling_moves_noisy_estimates_toward_the_channel_mean():
    est = pd.DataFrame({"queue": "q", "channel": "email", "campaign_id": list("abcde"),
                        "beta": [1.0, 2.0, 3.0, 10.0, 2.5], "se": [0.5, 0.5, 0.5, 5.0, 0.5]})
    out = effects.shrink(est).set_index("campaign_id")
    m = out["mean"].iloc[0]
    moved = (out["beta_pooled"] - m).abs() <= (out["beta"] - m).abs() + 1e-12
    assert moved.all()
    assert abs(out.loc["d", "beta_pooled"] - m) < 0.5 * abs(10.0 - m)      # the noisy one moves most
    assert (out["se_pooled"] <= out["se"] + 1e-12).all()
    same = effects.shrink(est.assign(beta=2.0, se=0.5)).set_index("campaign_id")
    assert (same["tau2"] == 0).all() and np.allclose(same["beta_pooled"], 2.0)


def test_planned_campaign_gets_the_learned_response(world, result, site):
    _, cal, _, _ = world
    planned = pd.DataFrame({"campaign_id": ["NEW"], "name": "new mailing", "channel": "direct_mail",
                            "start_ts": [pd.Timestamp("2026-09-08")], "end_ts": [pd.Timestamp("2026-09-08 23:00")],
                            "queues": [["voice"]], "reach": [50_000]})
    grid = future_grid(site, ["voice"], AS_OF + dt.timedelta(days=1), 42)
    open_days = {"voice": pd.DatetimeIndex(sorted(grid["ds"].dt.normalize().unique()))}
    days = effects.planned_impact(result, pd.concat([cal, planned]), site, AS_OF, open_days)
    assert set(days["campaign_id"]) == {"NEW"}
    assert all(pd.Timestamp(d).weekday() < 5 for d in days["day"])          # no response on closed days
    rate = effects.response_curves(result, cal).set_index("channel").loc["direct_mail", "per_1000"]
    assert days["extra_contacts"].sum() == pytest.approx(rate * 50, rel=0.25)
    assert (days["lo_80"] <= days["extra_contacts"]).all() and (days["extra_contacts"] <= days["hi_80"]).all()


def test_an_unexplained_spike_is_listed(world, result):
    _, _, _, spike_day = world
    spikes = effects.unexplained(result, dt.date(2026, 6, 1))
    assert spike_day.date() in set(spikes["day"])
    row = spikes[spikes["day"] == spike_day.date()].iloc[0]
    assert row["actual"] > row["upper_95"] > row["expected"]


def test_campaigns_cost_agent_hours(world, result, site):
    actuals, _, _, _ = world
    hours = effects.extra_agent_hours(result["days"], actuals, site)
    big = result["totals"].set_index("campaign_id")["extra_contacts"].idxmax()
    h = hours.set_index("campaign_id")["extra_agent_hours"]
    assert h[big] > 0 and h[big] >= 0.5 * h.max()        # the largest campaign is among the costliest
    positive = result["totals"].set_index("campaign_id")["extra_contacts"] > 0
    assert (h[positive[positive].index.intersection(h.index)] >= 0).all()   # more contacts never need fewer agents


def test_cli_impact_on_a_store(tmp_path, world, site):
    actuals, cal, truth, _ = world
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG)
    actuals.assign(interval_start=actuals["interval_start"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(
        tmp_path / "act.csv", index=False)
    pd.DataFrame({"campaign_id": cal["campaign_id"], "name": cal["name"], "channel": cal["channel"],
                  "start": cal["start_ts"].dt.strftime("%Y-%m-%d"), "end": cal["start_ts"].dt.strftime("%Y-%m-%d"),
                  "queues": "voice", "reach": cal["reach"], "kind": "statement",
                  "expected_contacts": (2 * truth.reindex(cal["campaign_id"])).round().to_numpy()}).to_csv(
        tmp_path / "cal.csv", index=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(cfg), *map(str, args)])

    assert run("impact").exit_code == 2                                     # no store yet
    assert run("ingest", tmp_path / "act.csv").exit_code == 0
    r = run("impact")
    assert r.exit_code == 2 and "the calendar holds no campaigns" in r.stderr
    assert run("campaigns", "submit", tmp_path / "cal.csv", "--by", "test").exit_code == 0
    r = run("impact")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Campaign impact as of 2026-08-28: 14 past, 0 planned (80% intervals)")  # last actuals
    assert "Response per channel and queue" in r.stdout
    # the learned response per kind, and how marketing's estimates (twice the truth) have fared
    assert "Response per kind" in r.stdout and "statement" in r.stdout
    assert "Marketing's estimates against 14 measured campaign(s): 0.5" in r.stdout
    r = run("impact", "--format", "json")
    assert r.exit_code == 0 and '"marketing_share"' in r.stdout
    r = run("impact", "--campaign", "M03", "--format", "json")
    assert r.exit_code == 0 and '"extra_contacts"' in r.stdout
    r = run("impact", "--campaign", "NOPE")
    assert r.exit_code == 2 and r.stderr.strip() == ("Error: campaign 'NOPE' is not in the current calendar; "
                                                      "'forecaster campaigns list' shows the campaigns")
    r = run("impact", "--unexplained", "--since", "2026-06-01")
    assert r.exit_code == 0 and "2026-08-12" in r.stdout


def test_submitting_a_campaign_that_outgrows_the_schedule_warns(tmp_path, world):
    from tests.test_nightly import NIGHTLY
    from tests.test_scheduling import SHIFTS

    actuals, cal, _, _ = world
    cfg = tmp_path / "site.yaml"
    cfg.write_text(TINY_CONFIG + SHIFTS + NIGHTLY)
    (tmp_path / "drop").mkdir()
    actuals.assign(interval_start=actuals["interval_start"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(
        tmp_path / "drop" / "history.csv", index=False)

    def calendar(name, rows):
        pd.DataFrame(rows).to_csv(tmp_path / name, index=False)
        return tmp_path / name

    past = calendar("past.csv", {"campaign_id": cal["campaign_id"], "name": "mailing", "channel": "direct_mail",
                                 "start": cal["start_ts"].dt.strftime("%Y-%m-%d"),
                                 "end": cal["start_ts"].dt.strftime("%Y-%m-%d"), "queues": "voice", "reach": cal["reach"]})
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--config", str(cfg), *map(str, args)])

    assert run("campaigns", "submit", past, "--by", "test").exit_code == 0
    assert run("nightly").exit_code == 0
    huge = calendar("huge.csv", {"campaign_id": ["BIG"], "name": ["big mailing"], "channel": ["direct_mail"],
                                 "start": ["2026-09-01"], "end": ["2026-09-01"], "queues": ["voice"],
                                 "reach": [400_000]})
    r = run("campaigns", "validate", huge)
    assert r.exit_code == 0
    assert "Warning: BIG: its expected response needs more agents than run #1's schedule has in" in r.stderr
    small = calendar("small.csv", {"campaign_id": ["SMALL"], "name": ["tiny mailing"], "channel": ["direct_mail"],
                                   "start": ["2026-09-01"], "end": ["2026-09-01"], "queues": ["voice"], "reach": [100]})
    r = run("campaigns", "submit", small, "--by", "test")
    assert r.exit_code == 0 and "needs more agents" not in r.stderr


def test_campaign_offsets_give_the_forecaster_each_days_campaign_contacts(world, site):
    """History days carry each mailing's estimated contacts; future days carry the tail of the
    last mailing and a planned one at the channel's mean rate; days far from any campaign nothing."""
    actuals, cal, truth, _ = world
    planned = cal.iloc[[0]].assign(campaign_id="P1", start_ts=pd.Timestamp("2026-09-08"),
                                   end_ts=pd.Timestamp("2026-09-08 23:00"), reach=50_000)
    future = {"voice": pd.bdate_range("2026-08-31", "2026-09-18")}
    out = effects.campaign_offsets(actuals, pd.concat([cal, planned], ignore_index=True), site, AS_OF, future)
    extra = out.set_index("date")["extra"]
    past = extra[extra.index <= pd.Timestamp(AS_OF)]
    assert past.sum() == pytest.approx(truth.sum(), rel=0.10)
    ahead = extra[extra.index > pd.Timestamp(AS_OF)]
    planned_days = ahead[ahead.index >= "2026-09-08"]
    assert planned_days.sum() == pytest.approx(PER_1000 * 50, rel=0.25)      # 50,000 reached at 4 per 1,000
    assert planned_days.idxmax() == pd.Timestamp("2026-09-10")                # lag 1 + ramp 1 after the send day
    assert ahead[(ahead.index >= "2026-09-01") & (ahead.index < "2026-09-08")].max() < 1.0
    assert (extra >= 0).all()


@pytest.mark.parametrize("days_before", [20, 27])
def test_a_campaign_sent_before_the_history_is_left_out_not_made_absurd(world, site, days_before):
    """Only a tail of tiny values of a mailing sent before the data starts lies in the history: its
    effect cannot be measured there. It must be left out, not estimated at millions of contacts
    with a tiny standard error that drags the channel's pooled mean and the planned campaigns."""
    actuals, cal, _, _ = world
    sent = pd.Timestamp(START) - pd.Timedelta(days=days_before)
    old = pd.DataFrame({"campaign_id": ["OLD"], "name": "old mailing", "channel": "direct_mail", "start_ts": [sent],
                        "end_ts": [sent + pd.Timedelta(hours=23)], "queues": [["voice"]], "reach": [50_000]})
    shapes = {"direct_mail": SHAPE}
    plain = effects.past_impact(actuals, cal, site, AS_OF, shapes=shapes)
    got = effects.past_impact(actuals, pd.concat([cal, old], ignore_index=True), site, AS_OF, shapes=shapes)
    est = got["estimates"]
    assert "OLD" not in set(est["campaign_id"]) and "OLD" not in set(got["totals"]["campaign_id"])
    assert est[["beta_pooled", "se_pooled", "mean"]].notna().all().all()
    assert est["mean"].iloc[0] == pytest.approx(plain["estimates"]["mean"].iloc[0], rel=1e-6)


def test_a_planned_campaign_takes_its_kinds_mean_shrunk_toward_the_channels():
    """Two kinds of letter that clearly differ keep their own means; kinds whose difference is
    within their noise are pulled to the channel mean; a campaign without a kind keeps the channel's."""
    def est(betas, se):
        rows = [{"queue": "voice", "channel": "direct_mail", "campaign_id": f"C{i}", "kind": k, "beta": b, "se": se}
                for i, (k, b) in enumerate(betas)]
        return effects.shrink(pd.DataFrame(rows))

    apart = est([("tax bill", 40.0), ("tax bill", 42.0), ("tax bill", 38.0),
                 ("newsletter", 10.0), ("newsletter", 11.0), ("newsletter", 9.0)], se=1.0)
    means = effects.kind_means(apart)
    assert means.loc[("voice", "direct_mail", "tax bill"), "mean"] == pytest.approx(40.0, rel=0.05)
    assert means.loc[("voice", "direct_mail", "newsletter"), "mean"] == pytest.approx(10.0, abs=1.0)
    close = est([("tax bill", 20.5), ("tax bill", 19.0), ("tax bill", 21.0),
                 ("newsletter", 19.5), ("newsletter", 21.0), ("newsletter", 19.0),
                 ("reminder", 20.0), ("reminder", 19.5), ("reminder", 20.5)], se=3.0)
    channel = float(close["mean"].iloc[0])
    for kind in ("tax bill", "newsletter", "reminder"):
        assert effects.kind_means(close).loc[("voice", "direct_mail", kind), "mean"] == pytest.approx(channel)
    assert effects.kind_means(close.assign(kind=None)).empty
    # two kinds cannot say how much kinds differ: the default spread keeps each kind's own mean
    two = est([("tax bill", 20.5), ("tax bill", 19.0), ("newsletter", 19.5), ("newsletter", 21.0)], se=3.0)
    assert (two["tau2_kinds"] >= (effects.DEFAULT_CV_BETWEEN * two["mean"]) ** 2 - 1e-9).all()


def test_one_past_campaign_gives_a_wide_band_not_none():
    """One campaign in a group has no spread to measure (np.var of one value is 0, which gave
    +-13 % bands): the default spread stands in, and a new kind adds the kinds' spread."""
    one = effects.shrink(pd.DataFrame([{"queue": "voice", "channel": "sms", "campaign_id": "S1",
                                        "kind": "payment reminder", "beta": 20.0, "se": 1.0}])).iloc[0]
    # the default coefficient of variation times the kind's squared size (its mean squared plus its variance)
    assert one["tau2"] == pytest.approx(effects.DEFAULT_CV_WITHIN ** 2 * (20.0 ** 2 + 1.0 ** 2))
    assert one["tau2_kinds"] == pytest.approx((effects.DEFAULT_CV_BETWEEN * 20.0) ** 2)
    half_same_kind = stats.norm.ppf(0.9) * np.sqrt(one["tau2"] + one["kind_var"])
    assert half_same_kind / 20.0 > 0.6                      # at least +-60 %, not +-13 %


# -- the activity clock ---------------------------------------------------------------------------
def test_the_activity_clock_holds_a_response_over_closed_days_and_meets_the_send_time():
    """On the activity clock nothing of a response is lost on a closed day (it waits for the next
    open one), a quiet weekday holds less of it, and an e-mail sent late in the day leaves more of
    its response for the next day than one sent in the morning."""
    full = pd.date_range("2026-03-02", periods=40, freq="D")                # a Monday
    quiet_saturday = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.0])          # Sunday closed
    after = np.tile(1 - np.arange(1440) / 1440, (7, 1))                      # contacts evenly over the day
    act = {"voice": Activity(quiet_saturday, after)}
    open_days = {"voice": full[full.weekday < 6]}
    cal = pd.DataFrame({"campaign_id": ["L", "E9", "E17"], "channel": ["direct_mail", "email", "email"],
                        "start_ts": pd.to_datetime(["2026-03-05 00:00", "2026-03-10 09:00", "2026-03-10 17:00"]),
                        "end_ts": pd.to_datetime(["2026-03-05 00:00", "2026-03-10 09:00", "2026-03-10 17:00"]),
                        "queues": [["voice"]] * 3, "reach": [10_000, 10_000, 10_000]})
    exp = effects.Exposures(cal, ["voice"], full, act, open_days)
    letter = exp.column("voice", "L", Response(1, 0.5, 0, "activity"))
    days = exp.full
    assert letter.sum() == pytest.approx(10.0, rel=1e-3)                    # all of it, per 1,000 reached x 10
    assert letter[days.weekday == 6].sum() == 0                             # nothing on the closed Sunday
    sat, fri = letter[days == pd.Timestamp("2026-03-07")][0], letter[days == pd.Timestamp("2026-03-06")][0]
    assert 0 < sat < 0.5 * fri                                              # a quiet Saturday holds less
    calendar = exp.column("voice", "L", Response(1, 0.5, 0))
    # the calendar clock loses what falls on the closed Sunday
    assert calendar[days.isin(open_days["voice"])].sum() < 0.99 * calendar.sum()
    fast = Response(0, 0.001, 0, "activity")
    morning, evening = exp.column("voice", "E9", fast), exp.column("voice", "E17", fast)
    sent = days == pd.Timestamp("2026-03-10")
    assert morning[sent][0] > 0.9 * morning.sum() and evening[sent][0] < morning[sent][0]
    assert evening[days == pd.Timestamp("2026-03-11")][0] > morning[days == pd.Timestamp("2026-03-11")][0]


def test_the_activity_clock_moves_at_a_worked_holidays_own_volume():
    """A holiday Wednesday the site works through at an eighth of a Wednesday's calls: the clock
    learned with it as a special day moves an eighth of a day there, so the holiday holds about an
    eighth of what an ordinary Wednesday would and the rest waits for the days after (as many
    callers do); without it the holiday took a full day's share, and cleaning history of that
    much made the bank's holiday forecasts near zero."""
    days = pd.date_range("2026-03-02", periods=28, freq="D")
    volume = np.where(days.weekday < 5, 800.0, 0.0)
    holiday = pd.Timestamp("2026-03-11")                                   # a Wednesday
    volume[days == holiday] = 100.0
    ts = [d + pd.Timedelta(hours=8 + h) for d in days for h in range(8)]
    actuals = pd.DataFrame({"queue": "voice", "interval_start": ts, "contacts": np.repeat(volume / 8, 8)})
    open_days = days[volume > 0]
    plain = Activity.learn(actuals, open_days)
    aware = Activity.learn(actuals, open_days, pd.DatetimeIndex([holiday]))
    mask = np.asarray(days.isin(open_days))
    assert plain.speed(days, mask)[days == holiday][0] == pytest.approx(1.0)
    assert aware.speed(days, mask)[days == holiday][0] == pytest.approx(100 / 800)
    np.testing.assert_allclose(aware.speed(days, mask)[days != holiday], plain.speed(days, mask)[days != holiday])
    cal = pd.DataFrame({"campaign_id": ["L"], "channel": ["direct_mail"], "start_ts": [pd.Timestamp("2026-03-09")],
                        "end_ts": [pd.Timestamp("2026-03-09")], "queues": [["voice"]], "reach": [10_000]})
    shape = Response(1, 0.5, 0, "activity")
    exp = effects.Exposures(cal, ["voice"], days, {"voice": plain}, {"voice": open_days})
    before = exp.column("voice", "L", shape)
    after = effects.Exposures(cal, ["voice"], days, {"voice": aware}, {"voice": open_days}).column("voice", "L", shape)
    on, next_day = exp.full == holiday, exp.full == pd.Timestamp("2026-03-12")
    assert after[on][0] < 0.25 * before[on][0]
    assert after.sum() == pytest.approx(before.sum(), rel=1e-3)         # nothing lost: it comes later
    assert after[next_day][0] > before[next_day][0]
    # a worked holiday to come moves as the ones it learned did: an eighth of its weekday's speed
    later = pd.DatetimeIndex([pd.Timestamp("2026-04-07")])                 # a Tuesday
    ahead = aware.expecting(later)
    assert ahead.speed(later, np.array([True]))[0] == pytest.approx(100 / 800)
    assert plain.expecting(later) is plain                                   # nothing learned: as it was


@pytest.fixture(scope="module")
def waiting_world(site):
    """The ``world``'s mailings, but each response waits over closed days (it runs on open days only),
    as post that is not delivered at weekends does."""
    rng = np.random.default_rng(11)
    grid = future_grid(site, ["voice"], START, (AS_OF - START).days + 1)
    day = grid["ds"].dt.normalize()
    open_days = pd.DatetimeIndex(sorted(day.unique()))
    starts = pd.date_range("2025-10-07", "2026-08-04", freq="23D")[:14]
    reach = rng.integers(20, 80, len(starts)) * 1000
    cal = pd.DataFrame({"campaign_id": [f"W{i:02d}" for i in range(len(starts))], "name": "letter",
                        "channel": "direct_mail", "start_ts": starts, "end_ts": starts,
                        "queues": [["voice"]] * len(starts), "reach": reach})
    kernel = np.r_[0.0, 0.5 ** np.arange(15)]                               # from the next open day, halving
    extra, truth = pd.Series(0.0, index=open_days), {}
    for c in cal.itertuples():
        after = open_days[open_days >= c.start_ts][: len(kernel)]
        resp = 3 * PER_1000 * c.reach / 1000 * kernel[: len(after)] / kernel.sum()
        extra.loc[after] += resp
        truth[c.campaign_id] = resp.sum()
    mean = (400 + extra.reindex(day).to_numpy()) / 20
    actuals = pd.DataFrame({"queue": "voice", "interval_start": grid["ds"], "contacts": rng.poisson(mean).astype(float),
                            "aht_s": 300.0})
    return actuals, cal, pd.Series(truth)


def test_the_data_choose_the_clock(world, result, waiting_world, site):
    """Responses lost on closed days keep the calendar clock; responses that wait over them earn
    the activity clock, and their sizes are recovered."""
    assert result["shapes"]["direct_mail"].clock == "calendar"
    actuals, cal, truth = waiting_world
    got = effects.past_impact(actuals, cal, site, AS_OF)
    assert got["shapes"]["direct_mail"].clock == "activity"
    est = got["totals"].set_index("campaign_id")["extra_contacts"]
    assert (est / truth.reindex(est.index) - 1).abs().median() < 0.15


def test_a_campaign_sent_on_the_last_day_of_history_is_not_measured_from_its_first_hours(world, site):
    """A slow response of which the history holds only the first evening cannot be measured: it is
    left out (and planned with its channel's mean) instead of being scaled up from one noisy evening,
    which once made a 37,000-contact day."""
    actuals, cal, _, _ = world
    as_of = dt.date(2026, 8, 28)                                            # a Friday, open
    actuals = actuals[actuals["interval_start"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    last = pd.Timestamp(as_of) + pd.Timedelta(hours=17)
    late = pd.DataFrame({"campaign_id": ["LATE"], "name": "late spot", "channel": "direct_mail", "start_ts": [last],
                         "end_ts": [last], "queues": [["voice"]], "reach": [50_000]})
    both = pd.concat([cal, late], ignore_index=True)
    slow = {"direct_mail": Response(0, 0.8, 0, "activity")}
    got = effects.past_impact(actuals, both, site, as_of, shapes=slow)
    assert "LATE" not in set(got["estimates"]["campaign_id"])
    future = {"voice": pd.bdate_range(as_of + dt.timedelta(days=1), periods=10)}
    offsets = effects.campaign_offsets(actuals, both, site, as_of, future, slow)
    mean = float(got["estimates"]["mean"].iloc[0])
    assert offsets["extra"].max() < 2 * mean * 50      # at most about the channel's mean response for the reach


def test_a_timed_send_fades_within_its_day_as_fast_as_history_shows(site):
    """E-mails sent at 14:00 whose calls come within about an hour: the fade learned from the send
    days is fast, and a send's contacts all fall after its send time, most in its first hour."""
    shape = np.full(20, 1 / 20)                                             # 08:00-18:00, even
    late = np.arange(20) >= 12                                              # from 14:00
    for tau in effects.INTRADAY_TAUS:
        w = effects.after_send_weights(shape, late, tau)
        assert w.sum() == pytest.approx(1.0) and (w[~late] == 0).all()
    fast = effects.after_send_weights(shape, late, 0.03)
    assert fast[12:14].sum() > 0.7 and np.allclose(effects.after_send_weights(shape, late, None)[late], 1 / 8)

    rng = np.random.default_rng(5)
    grid = future_grid(site, ["voice"], dt.date(2026, 3, 2), 84)
    mean = np.full(len(grid), 20.0)
    sends = pd.bdate_range("2026-03-03", periods=8, freq="7B") + pd.Timedelta(hours=14)   # weekdays in turn
    for s in sends:
        after = (grid["ds"] >= s).to_numpy() & (grid["ds"].dt.normalize() == s.normalize()).to_numpy()
        first = np.flatnonzero(after)[:4]
        mean[first] += 200 * np.array([0.5, 0.25, 0.15, 0.1])             # 200 calls, within two hours
    actuals = pd.DataFrame({"queue": "voice", "interval_start": grid["ds"], "contacts": rng.poisson(mean).astype(float)})
    timed = pd.DataFrame({"queue": "voice", "date": sends.normalize(), "send": sends, "extra": 200.0, "channel": "email"})
    assert effects.learn_intraday(actuals, timed, 30)["email"] in (0.03, 0.08)


def test_the_first_campaign_of_a_new_kind_still_raises_the_forecast(world, site):
    """One past mailing of a kind, then a planned mailing of a kind never seen: it gets its
    channel's mean, above zero, with the kinds' spread in its band (wider than the known kind's)."""
    actuals, cal, _, _ = world
    one = cal.iloc[[5]].assign(kind="annual statement")                     # the only past campaign
    planned = pd.DataFrame({"campaign_id": ["NEWKIND", "SAMEKIND"], "name": "letter", "channel": "direct_mail",
                            "kind": ["price change letter", "annual statement"],
                            "start_ts": [pd.Timestamp("2026-09-08")] * 2, "end_ts": [pd.Timestamp("2026-09-08")] * 2,
                            "queues": [["voice"]] * 2, "reach": [50_000] * 2})
    both = pd.concat([one, planned], ignore_index=True)
    result = effects.past_impact(actuals, both, site, AS_OF)
    grid = future_grid(site, ["voice"], AS_OF + dt.timedelta(days=1), 28)
    open_days = {"voice": pd.DatetimeIndex(sorted(grid["ds"].dt.normalize().unique()))}
    days = effects.planned_impact(result, both, site, AS_OF, open_days).groupby("campaign_id")[
        ["extra_contacts", "lo_80", "hi_80"]].sum()
    assert days.loc["NEWKIND", "extra_contacts"] > 0.5 * PER_1000 * 50
    width = days["hi_80"] - days["extra_contacts"]
    assert width["NEWKIND"] > width["SAMEKIND"]
    assert width["NEWKIND"] > days.loc["NEWKIND", "extra_contacts"] and days.loc["NEWKIND", "lo_80"] == 0
    future = {"voice": open_days["voice"]}
    offsets = effects.campaign_offsets(actuals, both.drop(index=2), site, AS_OF, future)     # the new kind alone
    assert offsets.loc[offsets["date"] > pd.Timestamp(AS_OF), "extra"].sum() > 0.5 * PER_1000 * 50


def _open_days(site, days=42):
    grid = future_grid(site, ["voice"], AS_OF + dt.timedelta(days=1), days)
    return {"voice": pd.DatetimeIndex(sorted(grid["ds"].dt.normalize().unique()))}


def _planned(cid, channel, **fields):
    return pd.DataFrame({"campaign_id": [cid], "name": "planned", "channel": channel,
                         "start_ts": [pd.Timestamp("2026-09-08")], "end_ts": [pd.Timestamp("2026-09-08")],
                         "queues": [["voice"]], "reach": [fields.pop("reach", 50_000)], **{k: [v] for k, v in fields.items()}})


def test_marketings_estimate_plans_a_channel_never_seen(world, result, site):
    """No past SMS: without marketing's estimate a planned SMS adds nothing (nothing to learn from);
    with ``expected_contacts`` it adds that many on the queue's open days, with a band of the
    default +-50 % (one sd) while marketing has no record, and says the estimate carries it all."""
    _, cal, _, _ = world
    open_days = _open_days(site)
    bare = effects.planned_impact(result, pd.concat([cal, _planned("S1", "sms")]), site, AS_OF, open_days)
    assert bare.empty
    days = effects.planned_impact(result, pd.concat([cal, _planned("S1", "sms", expected_contacts=600.0)]), site,
                                  AS_OF, open_days)
    assert days["extra_contacts"].sum() == pytest.approx(600, rel=0.01)
    assert (days["hi_80"] - days["extra_contacts"]).sum() == pytest.approx(stats.norm.ppf(0.9) * 0.5 * 600, rel=0.01)
    assert (days["prior_weight"] == 1.0).all()
    assert all(pd.Timestamp(d).weekday() < 5 for d in days["day"])


def test_marketings_estimate_and_the_history_are_combined(world, result, site):
    """A planned mailing with an estimate three times what past mailings say lands between the two,
    nearer the better-founded one, with a narrower band than the history's alone."""
    _, cal, _, _ = world
    open_days = _open_days(site)
    model = effects.planned_impact(result, pd.concat([cal, _planned("M", "direct_mail")]), site, AS_OF, open_days)
    m = model["extra_contacts"].sum()
    both = effects.planned_impact(result, pd.concat([cal, _planned("M", "direct_mail", expected_contacts=3 * m)]),
                                  site, AS_OF, open_days)
    assert m < both["extra_contacts"].sum() < 3 * m
    w = both["prior_weight"].iloc[0]
    assert 0 < w < 1 and (both["prior_weight"] == w).all()
    assert (both["hi_80"] - both["lo_80"]).sum() < (model["hi_80"] - model["lo_80"]).sum()


def test_marketings_record_corrects_its_estimates(world, site):
    """Marketing estimated every past mailing at twice what it brought: the model learns the bias
    (shrunk toward none: 14 campaigns against the default's 2), keeps the measured figures near the
    truth, and halves, about, its estimate for a planned campaign of a channel never seen."""
    actuals, cal, truth, _ = world
    told = cal.assign(expected_contacts=2 * truth.reindex(cal["campaign_id"]).to_numpy())
    got = effects.past_impact(actuals, told, site, AS_OF)
    record = got["marketing"]
    assert record["campaigns"] == 14
    assert record["bias"] == pytest.approx(np.exp(14 / 16 * np.log(0.5)), rel=0.1)
    assert record["cv"] < 0.5                     # the misses were consistent: a tighter prior than the default
    totals = got["totals"].set_index("campaign_id")["extra_contacts"]
    assert (totals / truth.reindex(totals.index) - 1).abs().median() < 0.15
    days = effects.planned_impact(got, pd.concat([told, _planned("S1", "sms", expected_contacts=1000.0)]), site,
                                  AS_OF, _open_days(site))
    assert days["extra_contacts"].sum() == pytest.approx(record["bias"] * 1000, rel=0.01)
    kinds = effects.kind_table(got, told)
    assert kinds["with_estimate"].sum() == 14 and (kinds["marketing_share"] < 0.5).all()


def test_events_that_are_not_marketing_are_measured_and_planned(world, site):
    """``channel: event`` without reach: payment due dates (the 15th, or the next weekday) add 300
    contacts each over two days; the impact model measures each, and a planned due date raises
    the forecast by about as much."""
    actuals, cal, _, _ = world
    rng = np.random.default_rng(3)
    due = [d + pd.offsets.BDay(0) for d in pd.date_range("2025-10-15", "2026-08-15", freq="MS") + pd.Timedelta(days=14)]
    a = actuals.copy()
    day = a["interval_start"].dt.normalize()
    for d in due:
        for when, n in ((d, 200), (d + pd.offsets.BDay(1), 100)):
            on = np.flatnonzero(day == when)
            a.loc[a.index[on], "contacts"] += rng.multinomial(n, np.full(len(on), 1 / len(on)))
    events = pd.DataFrame({"campaign_id": [f"DUE{i}" for i in range(len(due))], "name": "payment due",
                           "channel": "event", "kind": "payment due", "start_ts": due, "end_ts": due,
                           "queues": [["voice"]] * len(due), "reach": None})
    both = pd.concat([cal, events], ignore_index=True)
    got = effects.past_impact(a, both, site, AS_OF)
    measured = got["totals"].set_index("campaign_id").loc[events["campaign_id"], "extra_contacts"]
    assert (measured / 300 - 1).abs().median() < 0.25
    nxt = pd.DataFrame({"campaign_id": ["DUE-SEP"], "name": "payment due", "channel": "event", "kind": "payment due",
                        "start_ts": [pd.Timestamp("2026-09-15")], "end_ts": [pd.Timestamp("2026-09-15")],
                        "queues": [["voice"]], "reach": [None]})
    planned = effects.planned_impact(got, pd.concat([both, nxt]), site, AS_OF, _open_days(site))
    assert planned["extra_contacts"].sum() == pytest.approx(300, rel=0.25)


def test_a_late_send_is_measured_from_its_days_hours(site):
    """SMS sent at 16:00 whose 60-120 calls all come that evening, on a queue whose daily level
    wanders by 15 % (400 calls a day, so +-60): the daily fit alone cannot tell a campaign from a
    busy day, the hours before the send can. The send-day evidence makes the estimates several
    times more precise, they land near the truth, and their intervals still hold it."""
    rng = np.random.default_rng(11)
    start = dt.date(2025, 11, 3)
    grid = future_grid(site, ["voice"], start, 240)
    day = grid["ds"].dt.normalize()
    level = pd.Series(400 * rng.lognormal(0, 0.15, day.nunique()), index=day.unique())
    mean = level.reindex(day).to_numpy() / 20
    sends = pd.DatetimeIndex(day.unique()[20::14][:14]) + pd.Timedelta(hours=16)      # open days only
    size = rng.integers(60, 121, len(sends)).astype(float)
    truth = {}
    for i, (s, n) in enumerate(zip(sends, size)):
        after = np.flatnonzero((grid["ds"] >= s).to_numpy() & (day == s.normalize()).to_numpy())
        mean[after] += n * np.array([0.4, 0.3, 0.2, 0.1])
        truth[f"S{i:02d}"] = n
    actuals = pd.DataFrame({"queue": "voice", "interval_start": grid["ds"], "contacts": rng.poisson(mean).astype(float)})
    cal = pd.DataFrame({"campaign_id": list(truth), "name": "sms", "channel": "sms", "start_ts": sends,
                        "end_ts": sends, "queues": [["voice"]] * len(sends), "reach": 10_000})
    as_of = (start + dt.timedelta(days=239))
    got = effects.past_impact(actuals, cal, site, as_of)
    est = got["estimates"]
    assert (est["se"] < 0.7 * est["se_daily"]).mean() > 0.8
    totals = got["totals"].set_index("campaign_id")
    t = pd.Series(truth).reindex(totals.index)
    assert (totals["extra_contacts"] / t - 1).abs().median() < 0.15
    assert ((totals["lo_80"] <= t) & (t <= totals["hi_80"])).mean() >= 0.7
    assert est["send_day_cv"].notna().all()          # each says how much model error its figure carries


def test_agent_hours_taken_a_few_queues_at_a_time_are_those_of_one_pass(world, result, site, monkeypatch):
    """extra_agent_hours staffs queues in chunks to bound memory; the hours must not depend on it.
    The voice history is copied onto the e-mail queue (staffed by deadline, campaign by campaign)."""
    actuals, _, _, _ = world
    days = result["days"]
    both_days = pd.concat([days, days.assign(queue="email")], ignore_index=True)
    both = pd.concat([actuals, actuals.assign(queue="email", contacts=actuals["contacts"] * 0.5)], ignore_index=True)
    whole = effects.extra_agent_hours(both_days, both, site)
    monkeypatch.setattr(effects, "HOURS_CHUNK_ROWS", 10)        # every queue its own chunk
    pd.testing.assert_frame_equal(effects.extra_agent_hours(both_days, both, site), whole)
    assert set(whole["queue"]) == {"voice", "email"} and whole["extra_agent_hours"].gt(0).any()


def test_each_shape_is_scored_by_the_least_squares_fit_of_all_columns(world, site, monkeypatch):
    """``learn_shapes`` scores a channel's candidates all at once, with the base and the other
    channels projected out: each score is the residual sum of squares of one least-squares fit of
    the base terms and every channel's columns together, the scored channel's kinds held at zero
    or above (campaigns add contacts), also where two kinds' columns coincide (a rank-deficient
    design, as a calendar with the same send under two kinds gives). The reference is scipy's
    bounded least squares on the whole design."""
    actuals, cal, _, _ = world
    sends = pd.Timestamp("2026-03-03 10:00"), pd.Timestamp("2026-06-09 10:00")
    extra = pd.DataFrame({"campaign_id": ["E1", "E2", "E3"], "name": "e-mail", "channel": "email",
                          "start_ts": [sends[0], sends[0], sends[1]], "end_ts": [sends[0], sends[0], sends[1]],
                          "queues": [["voice"]] * 3, "reach": [50_000.0] * 3, "kind": ["offer", "news", "offer"]})
    cal = pd.concat([cal.assign(kind="letter"), extra], ignore_index=True)
    seen = {}
    real = effects.learn_shapes

    def spy(series, bases, exp, **kw):
        seen.update(series=series, bases=bases, exp=exp, kinds=kw.get("kinds") or {})
        return real(series, bases, exp, **kw)

    monkeypatch.setattr(effects, "learn_shapes", spy)
    got = effects.past_impact(actuals, cal, site, AS_OF)
    shapes, scores = got["shapes"], got["scores"]
    last = max(scores)                          # scored last: the others were at their final shapes
    exp, kinds = seen["exp"], seen["kinds"]
    bound = 0
    for shape in list(scores[last])[::37]:
        sse = 0.0
        for q, y in seen["series"].items():
            groups = {}
            for cid in exp.raw[q]:
                groups.setdefault((exp.channel[cid], kinds.get(cid)), []).append(cid)
            cols = [exp.response(q, tuple(cids), shape if ch == last else shapes[ch])[exp.full.get_indexer(y.index)]
                    for (ch, _), cids in groups.items()]
            x = np.column_stack([seen["bases"][q].to_numpy(float), *cols])
            low = np.r_[np.full(seen["bases"][q].shape[1], -np.inf), [0.0 if ch == last else -np.inf for ch, _ in groups]]
            fit = optimize.lsq_linear(x, y.to_numpy(float), bounds=(low, np.inf), method="bvls", tol=1e-12)
            sse += float((fit.fun ** 2).sum())
            bound += int(np.any(fit.active_mask != 0))
        assert scores[last][shape] == pytest.approx(sse, rel=1e-6)
    assert bound                                # some shapes fit only with a kind drawing fewer contacts


def test_a_shape_that_fits_only_with_fewer_contacts_does_not_win(world, site):
    """TV spots that draw no calls, on a queue whose volume happens to dip by a fifth three days
    after each: a response three days late, fitted with a negative coefficient, explains the dips.
    Campaigns add contacts, so each shape is scored by its best fit with no channel or kind
    drawing fewer: the late shape explains nothing that way, and the spots are measured near
    nothing rather than as a loss of calls that would raise the base around every future spot."""
    actuals, cal, _, _ = world
    starts = pd.date_range("2025-10-14 10:00", "2026-08-11 10:00", freq="28D")      # Tuesdays
    tv = pd.DataFrame({"campaign_id": [f"T{i:02d}" for i in range(len(starts))], "name": "spot", "channel": "tv",
                       "start_ts": starts, "end_ts": starts, "queues": [["voice"]] * len(starts),
                       "reach": 100_000.0})
    dip = actuals["interval_start"].dt.normalize().isin(starts.normalize() + pd.Timedelta(days=3))
    dipped = actuals.assign(contacts=np.where(dip, np.round(actuals["contacts"] * 0.8), actuals["contacts"]))
    got = effects.past_impact(dipped, pd.concat([cal, tv], ignore_index=True), site, AS_OF)
    late = [s for s in got["scores"]["tv"] if s.lag_days == 3 and s.decay <= 0.02 and s.ramp_days == 0]
    best = min(got["scores"]["tv"].values())
    assert late and all(got["scores"]["tv"][s] > best for s in late)
    assert got["shapes"]["tv"].lag_days != 3
    measured = got["totals"].set_index("campaign_id").loc[tv["campaign_id"], "extra_contacts"]
    day = 400 * len(starts)                     # one ordinary day per spot
    assert measured.sum() > -0.05 * day


def test_a_campaigns_interval_never_reaches_below_no_contacts():
    """Campaigns add contacts: a band whose normal lower end falls below 0 starts at 0; the totals'
    half-widths still add in quadrature over queues from each day's upper half (a day's lower end
    may be cut), and a past campaign measured below 0 keeps its interval as measured."""
    days = pd.DataFrame({"campaign_id": ["A", "A", "A", "B"], "queue": ["q1", "q1", "q2", "q1"],
                         "extra_contacts": [10.0, 10.0, 5.0, -10.0], "hi_80": [40.0, 40.0, 25.0, 10.0]})
    days["lo_80"] = effects.not_below_zero(days["extra_contacts"], 2 * days["extra_contacts"] - days["hi_80"])
    assert days["lo_80"].tolist() == [0.0, 0.0, 0.0, -30.0]
    got = effects.interval_totals(days, ["campaign_id"]).set_index("campaign_id")
    half = np.hypot(60.0, 20.0)
    assert got.loc["A", "extra_contacts"] == 25 and got.loc["A", "hi_80"] == pytest.approx(25 + half)
    assert got.loc["A", "lo_80"] == 0.0
    assert got.loc["B"].tolist() == [-10.0, -30.0, 10.0]


def _month_world(site, seed: int = 5):
    """104 days of a weekday queue whose month runs +-25 % around its level (busiest on the first),
    with six letters of one size and shape (SHAPE): three sent on the first of a month, three
    mid-month. Returns the actuals, the calendar, each letter's true extra contacts and the last day."""
    start, as_of = dt.date(2026, 8, 3), dt.date(2026, 11, 15)       # no Dutch public holiday in between
    rng = np.random.default_rng(seed)
    grid = future_grid(site, ["voice"], start, (as_of - start).days + 1)
    day = grid["ds"].dt.normalize()
    days = pd.date_range(start - dt.timedelta(days=35), as_of, freq="D")
    sends = pd.to_datetime(["2026-09-01", "2026-10-01", "2026-11-02", "2026-08-18", "2026-09-16", "2026-10-15"])
    cal = pd.DataFrame({"campaign_id": [f"L{i}" for i in range(len(sends))], "name": "letter",
                        "channel": "direct_mail", "start_ts": sends, "end_ts": sends + pd.Timedelta(hours=23),
                        "queues": [["voice"]] * len(sends), "reach": 40_000})
    truth, extra = {}, pd.Series(0.0, index=days)
    for c in cal.itertuples():
        x = np.zeros(len(days))
        x[days.get_loc(c.start_ts.normalize())] = 1.0
        kernel = adstock(x, *SHAPE)
        response = pd.Series(15.0 * c.reach / 1000 * kernel / kernel.sum(), index=days)
        response = response[response.index.weekday < 5]        # closed at weekends: those are lost
        truth[c.campaign_id] = response.sum()
        extra = extra.add(response, fill_value=0.0)
    cycle = 1 + 0.25 * np.cos(2 * np.pi * (day.dt.day.to_numpy() - 1) / day.dt.days_in_month.to_numpy())
    mean = (1000 * cycle + extra.reindex(day).fillna(0.0).to_numpy()) / 20
    actuals = pd.DataFrame({"queue": "voice", "interval_start": grid["ds"], "contacts": rng.poisson(mean).astype(float),
                            "aht_s": 300.0})
    return actuals, cal, pd.Series(truth), as_of


def test_letters_sent_at_the_turn_of_the_month_are_not_given_its_surge_on_a_short_history(site):
    """Billing and pay cycles make a month's first days the busiest: on a real bank, weekdays run
    about 18 % above their level on a month's first four days. Letters are often sent on the
    first. Without day-of-month terms in its base, the impact model gives such a letter the month's
    surge (and one sent mid-month the dip): on the real bank from 1999-05-15, 118 days of history,
    a price change letter of 1 July was measured at 8,473 contacts (1,180 in truth) and planned
    letters then at several times theirs. Here 104 days (:func:`_month_world`); the letters' shape
    is given, so what is measured is the base alone."""
    from forecaster.features import design

    actuals, cal, truth, as_of = _month_world(site)
    assert design.IMPACT_MONTHLY_MIN_DAYS <= (as_of - actuals["interval_start"].min().date()).days < design.MONTHLY_MIN_DAYS
    got = effects.past_impact(actuals, cal, site, as_of, shapes={"direct_mail": SHAPE})["totals"]
    ratio = got.set_index("campaign_id")["extra_contacts"] / truth
    assert ratio.between(0.6, 1.4).all(), ratio.round(2).to_dict()           # without the terms 0.20-1.66
    first, mid = ratio[["L0", "L1", "L2"]].mean(), ratio[["L3", "L4", "L5"]].mean()
    assert 0.75 < first / mid < 1.33                                         # without them 1.35 / 0.50
