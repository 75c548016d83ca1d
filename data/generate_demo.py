"""Seeded generator of the bundled demo data (see data/README.md for what it models).

Run ``python data/generate_demo.py`` to rewrite ``data/demo/``; the same seed gives the same
files. It uses the demo config (configs/example.yaml) for queues, opening hours and holidays,
so the data and the config always fit each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster.core.config import load_config
from forecaster.core.site_calendar import closed_dates, open_grid, public_holidays

ROOT = Path(__file__).resolve().parent.parent
HISTORY_START = dt.date(2024, 11, 18)   # a Monday
HISTORY_END = dt.date(2026, 11, 22)     # a Sunday: the last day of actuals
PLANNED_UNTIL = dt.date(2026, 12, 20)

# Mean contacts on an ordinary Wednesday; weekday factors Monday..Sunday.
BASE = {"voice_billing": 1500.0, "voice_sales": 650.0, "chat": 550.0, "email": 380.0}
WEEKDAY = {
    "voice_billing": [1.22, 1.06, 1.0, 0.97, 0.90, 0.42, 0.0],
    "voice_sales": [1.15, 1.05, 1.0, 1.0, 0.95, 0.55, 0.0],
    "chat": [1.15, 1.05, 1.0, 0.98, 0.92, 0.55, 0.48],
    "email": [1.30, 1.08, 1.0, 0.97, 0.90, 0.55, 0.50],
}
# Intraday shape: (peak hour, spread in hours, weight) bumps on a flat floor.
INTRADAY = {
    "voice_billing": [(10.0, 1.3, 1.0), (14.0, 1.7, 0.75)],
    "voice_sales": [(11.0, 1.5, 1.0), (15.5, 2.0, 0.8), (19.5, 1.0, 0.35)],
    "chat": [(11.0, 1.6, 0.9), (20.0, 1.4, 1.0)],
    "email": [(9.0, 1.5, 1.0), (13.0, 2.5, 0.8), (21.0, 1.5, 0.4)],
}
AHT = {"voice_billing": 360.0, "voice_sales": 420.0, "chat": 540.0, "email": 480.0}

# Channel response: days of lag, peak day, geometric decay after the peak, contacts per 1,000
# reached, reach range, and how responses split over the queues.
CHANNELS = {
    "direct_mail": dict(lag=2, peak=3, decay=0.60, per_1000=12.0, reach=(20_000, 120_000), flight=(1, 1),
                        split={"voice_billing": 0.70, "voice_sales": 0.05, "chat": 0.10, "email": 0.15}),
    "email": dict(lag=0, peak=0, decay=0.35, per_1000=1.6, reach=(100_000, 400_000), flight=(1, 1),
                  split={"voice_billing": 0.35, "voice_sales": 0.25, "chat": 0.20, "email": 0.20}),
    "sms": dict(lag=0, peak=0, decay=0.20, per_1000=3.0, reach=(20_000, 80_000), flight=(1, 1),
                split={"voice_billing": 0.55, "voice_sales": 0.15, "chat": 0.30}),
    "tv": dict(lag=0, peak=0, decay=0.50, per_1000=0.10, reach=(1_000_000, 4_000_000), flight=(7, 14),
               split={"voice_sales": 0.65, "voice_billing": 0.05, "chat": 0.30}),
    "social": dict(lag=0, peak=1, decay=0.55, per_1000=0.45, reach=(100_000, 600_000), flight=(3, 7),
                   split={"chat": 0.55, "voice_sales": 0.30, "email": 0.15}),
}
PAST_MIX = {"direct_mail": 12, "email": 12, "sms": 7, "tv": 6, "social": 8}
NAMES = {
    "direct_mail": ["Annual statement mailing", "Tariff change letter", "Meter reading reminder", "Welcome pack"],
    "email": ["Winter saving tips", "Tariff change e-mail", "Newsletter", "Contract renewal e-mail"],
    "sms": ["Payment reminder SMS", "Meter reading SMS", "Outage notice SMS"],
    "tv": ["Brand TV flight", "Green energy TV spot", "Switch-now TV flight"],
    "social": ["Solar panel social push", "Referral social campaign", "Heat pump social ads"],
}
RESPONSE_DAYS = 21


def response_shape(ch: dict) -> np.ndarray:
    """Share of one day's responses on each day after it (sums to 1)."""
    days = np.arange(RESPONSE_DAYS)
    shape = np.where(days < ch["lag"], 0.0, np.where(days <= ch["peak"],
                     (days - ch["lag"] + 1) / (ch["peak"] - ch["lag"] + 1), ch["decay"] ** (days - ch["peak"])))
    return shape / shape.sum()


def make_calendar(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    past_days = pd.date_range(HISTORY_START + dt.timedelta(days=28), HISTORY_END - dt.timedelta(days=21))
    for channel, count in PAST_MIX.items():
        for start in sorted(rng.choice(past_days, size=count, replace=False)):
            rows.append((channel, pd.Timestamp(start)))
    planned = [("direct_mail", "2026-12-01"), ("email", "2026-12-03"), ("tv", "2026-12-05"),
               ("sms", "2026-12-09"), ("social", "2026-12-14")]
    rows += [(ch, pd.Timestamp(d)) for ch, d in planned]
    out = []
    for n, (channel, start) in enumerate(sorted(rows, key=lambda r: r[1]), 1):
        ch = CHANNELS[channel]
        if channel in ("direct_mail", "email", "sms") and start.weekday() >= 5:
            start += pd.Timedelta(days=7 - start.weekday())
        flight = int(rng.integers(ch["flight"][0], ch["flight"][1] + 1))
        lo, hi = ch["reach"]
        reach = int(round(rng.uniform(lo, hi), -3))
        out.append({
            "campaign_id": f"CMP-{start:%Y}-{n:03d}",
            "name": f"{rng.choice(NAMES[channel])} {start:%b %Y}",
            "channel": channel,
            "start": start.date().isoformat(),
            "end": (start + pd.Timedelta(days=flight - 1)).date().isoformat(),
            "queues": ";".join(ch["split"]),
            "reach": reach,
            "notes": "planned" if start.date() > HISTORY_END else "",
        })
    return pd.DataFrame(out)


def daily_level(config, queue: str, days: pd.DatetimeIndex, rng: np.random.Generator) -> tuple[pd.Series, np.ndarray]:
    """Expected contacts per day before campaigns: trend, yearly and weekly seasonality, holidays;
    and each day's random factor (the day-to-day noise in it, which no forecast can know)."""
    doy = days.dayofyear.to_numpy()
    years = (days - pd.Timestamp(HISTORY_START)).days.to_numpy() / 365.25
    season = {
        "voice_billing": 1 + 0.14 * np.cos(2 * np.pi * (doy - 20) / 365.25) - 0.08 * np.exp(-((doy - 215) / 25.0) ** 2),
        "voice_sales": 1 + 0.12 * np.cos(2 * np.pi * (doy - 295) / 365.25),
        "chat": 1 + 0.06 * np.cos(2 * np.pi * (doy - 20) / 365.25),
        "email": 1 + 0.08 * np.cos(2 * np.pi * (doy - 30) / 365.25),
    }[queue]
    trend = {"voice_billing": 0.03, "voice_sales": 0.05, "chat": 0.15, "email": -0.05}[queue]
    level = BASE[queue] * np.array(WEEKDAY[queue])[days.weekday] * season * (1 + trend * years)
    noise = np.exp(rng.normal(0, 0.04, len(days)))                # day-to-day overdispersion
    level *= noise
    hols = public_holidays(config.holidays, days.min().date(), days.max().date())
    closed = closed_dates(config, days.min().date(), days.max().date())
    after_holiday = np.array([(d - dt.timedelta(days=1)) in hols or (d - dt.timedelta(days=2)) in hols and
                              d.weekday() == 0 for d in days.date])
    bridge = np.array([(d - dt.timedelta(days=1)) in hols and d.weekday() == 4 for d in days.date])
    level = np.where(after_holiday, level * 1.35, level)
    level = np.where(bridge, level * 0.75, level)
    level = np.where(np.isin(days.date, list(closed)), 0.0, level)
    return pd.Series(level, index=days), noise


def intraday_weights(queue: str, grid: pd.DatetimeIndex) -> np.ndarray:
    hour = (grid.hour + grid.minute / 60).to_numpy()
    w = 0.12 + sum(a * np.exp(-0.5 * ((hour - mu) / sd) ** 2) for mu, sd, a in INTRADAY[queue])
    day = grid.normalize()
    return w / pd.Series(w).groupby(day).transform("sum").to_numpy()


def generate(seed: int = 20261123) -> dict[str, pd.DataFrame]:
    config = load_config(ROOT / "configs" / "example.yaml")
    rng = np.random.default_rng(seed)
    calendar = make_calendar(rng)
    days = pd.date_range(HISTORY_START, HISTORY_END, freq="D")
    frames, truth, means = [], [], []
    for queue in config.queue_names:
        grid = open_grid(config, queue, days[0].to_pydatetime(), (days[-1] + pd.Timedelta(days=1)).to_pydatetime())
        weights = intraday_weights(queue, grid)
        day_of = grid.normalize()
        level, day_noise = daily_level(config, queue, days, rng)
        mean = level.reindex(day_of).to_numpy() * weights
        contacts = rng.poisson(mean)
        expected = mean.copy()                  # the true mean per interval, campaigns included
        # the same without the day's random factor: what a forecast could know at best
        knowable = mean / pd.Series(day_noise, index=days).reindex(day_of).to_numpy()
        open_days = pd.DatetimeIndex(day_of.unique())
        for c in calendar.itertuples():
            ch = CHANNELS[c.channel]
            share = ch["split"].get(queue, 0.0)
            if share == 0:
                continue
            flight = pd.date_range(c.start, c.end, freq="D")
            total = ch["per_1000"] * c.reach / 1000 * share * np.exp(rng.normal(0, 0.15))
            per_day = pd.Series(0.0, index=pd.date_range(flight[0], flight[-1] + pd.Timedelta(days=RESPONSE_DAYS)))
            for d in flight:
                per_day.iloc[(d - flight[0]).days:(d - flight[0]).days + RESPONSE_DAYS] += total / len(flight) * response_shape(ch)
            per_day = per_day[per_day.index.isin(open_days)]        # responses on closed days are lost
            if per_day.empty:
                continue
            in_window = day_of.isin(per_day.index)
            extra_mean = per_day.reindex(day_of[in_window]).to_numpy() * weights[in_window]
            extra = rng.poisson(extra_mean)
            contacts[in_window] += extra
            expected[in_window] += extra_mean
            knowable[in_window] += extra_mean
            if c.start <= HISTORY_END.isoformat():
                t = pd.DataFrame({"day": day_of[in_window], "expected": extra_mean, "realised": extra})
                t = t.groupby("day", as_index=False).sum()
                t.insert(0, "queue", queue)
                t.insert(0, "campaign_id", c.campaign_id)
                truth.append(t)
        hour = (grid.hour + grid.minute / 60).to_numpy()
        aht_mean = AHT[queue] * (1 + 0.06 * (hour - 14) / 6) * np.where(grid.weekday == 0, 1.03, 1.0)
        aht_mean *= 1 + 0.04 * np.sin(2 * np.pi * grid.dayofyear.to_numpy() / 365.25)
        noise = rng.normal(0, 0.7, len(grid)) / np.sqrt(np.maximum(contacts, 1))
        aht = np.where(contacts > 0, np.round(aht_mean * np.exp(noise), 1), np.nan)
        frames.append(pd.DataFrame({"queue": queue, "interval_start": grid.strftime("%Y-%m-%d %H:%M"),
                                    "contacts": contacts, "aht_s": aht}))
        means.append(pd.DataFrame({"queue": queue, "interval_start": grid, "mean": expected, "knowable": knowable}))
    actuals = pd.concat(frames, ignore_index=True)
    truth_df = pd.concat(truth, ignore_index=True)
    truth_df["day"] = truth_df["day"].dt.date.astype(str)
    truth_df["expected"] = truth_df["expected"].round(2)
    # not written out: the Poisson mean each count was drawn from, for the accuracy benchmark's
    # noise floor (what a forecast that knew the truth would still miss)
    interval_mean = pd.concat(means, ignore_index=True)
    return {"actuals": actuals, "campaigns": calendar, "campaign_truth": truth_df, "interval_mean": interval_mean}


AGENTS = {"voice_billing": 70, "voice_sales": 46, "chat": 46, "email": 22}   # enough for the demo week


def make_agents() -> pd.DataFrame:
    """The demo team for the named roster: every fourth agent part-time (24 h), the rest 36 h.
    Voice queues are closed on Sundays; there part-timers and every third full-timer also have
    Saturday off. Chat and e-mail run all week: part-timers are off Monday and Wednesday, every
    third full-timer on Friday."""
    rows = []
    for queue, n in AGENTS.items():
        voice = queue.startswith("voice")
        for i in range(n):
            part = i % 4 == 3
            off = ("sat;sun" if part else ("sat;sun" if i % 3 == 0 else "sun")) if voice else \
                ("mon;wed" if part else ("fri" if i % 3 == 0 else ""))
            rows.append({"name": f"{queue.split('_')[-1]}-{i + 1:02d}", "queue": queue,
                         "contracted_hours": 24 if part else 36, "days_off": off})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "demo")
    args = parser.parse_args()
    data = generate(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    data["actuals"].to_csv(args.out / "actuals.csv.gz", index=False,
                           compression={"method": "gzip", "mtime": 0})
    data["campaigns"].to_csv(args.out / "campaigns.csv", index=False)
    data["campaign_truth"].to_csv(args.out / "campaign_truth.csv", index=False)
    make_agents().to_csv(args.out / "agents.csv", index=False)
    print(f"wrote {len(data['actuals']):,} actuals rows, {len(data['campaigns'])} campaigns, "
          f"{len(data['campaign_truth']):,} truth rows to {args.out}")


if __name__ == "__main__":
    main()
