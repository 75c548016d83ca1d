"""The intraday profile's window on real data: how well each choice splits a day's true total.

    python -m benchmarks.profile_windows [--weeks 27]

For the real Anonymous Bank series in ``../shared/data`` (every day of the week, 30 minutes), at
``--weeks`` weekly origins (Saturdays, from 1999-07-03), each profile window and weighting of
:data:`~forecaster.demand.models.topdown.PROFILE_CHOICES` is built from the history before the
origin and splits each of the next seven days' *actual* totals; the interval WAPE per weekday
isolates the profile from the daily level. Rows: every fixed choice, the queue's choice alone
(``gain`` 1: no weekday its own), the production choice (a weekday takes its own best where that
is :data:`~forecaster.demand.models.topdown.OWN_WINDOW_GAIN` better on its own test days), and
every weekday by its own best (``gain`` 0).
"""

from __future__ import annotations

import argparse
import calendar
import warnings

import numpy as np
import pandas as pd

from benchmarks.real_accuracy import SHARED, load_series
from forecaster.core.grid import minute_of_day
from forecaster.demand.models.topdown import OWN_WINDOW_GAIN, PROFILE_CHOICES, profile_choice, weekday_profile

DAYS = tuple(calendar.day_abbr)              # Monday first


def split_errors(hist: pd.DataFrame, origin: pd.Timestamp, profile: pd.Series) -> np.ndarray:
    """Per weekday (Monday first): absolute error and contacts of the seven days from ``origin``,
    each day's actual total split by ``profile``."""
    out = np.zeros((7, 2))
    week = hist[(hist["ds"] >= origin) & (hist["ds"] < origin + pd.Timedelta(days=7))]
    for day, t in week.groupby(week["ds"].dt.normalize()):
        share = profile.reindex(pd.MultiIndex.from_arrays([t["queue"], t["ds"].dt.weekday, minute_of_day(t["ds"])]))
        share = share.fillna(0.0).to_numpy()
        total = float(t["y"].sum())
        p = total * share / share.sum() if share.sum() > 0 else np.zeros(len(t))
        out[day.weekday()] += [np.abs(t["y"].to_numpy() - p).sum(), total]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=27, help="weekly origins from 1999-07-03 (default 27)")
    args = ap.parse_args(argv)
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} not found: this benchmark needs the shared real data")
    hist = load_series()[0].hist
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for origin in pd.date_range("1999-07-03", periods=args.weeks, freq="7D"):
            past = hist[hist["ds"] < origin]
            profiles = {c: weekday_profile(past, set(), *c) for c in PROFILE_CHOICES}
            for (weeks, halflife), profile in profiles.items():
                name = f"{weeks} weeks" + (f", half-life {halflife:g}" if halflife else "")
                rows[name] = rows.get(name, 0) + split_errors(hist, origin, profile)
            for name, gain in (("the queue's choice", 1.0), (f"production (own at {OWN_WINDOW_GAIN:.0%})", OWN_WINDOW_GAIN),
                               ("every weekday its own best", 0.0)):
                choice = profile_choice(past, set(), gain)["bank"]
                profile = pd.concat([profiles[choice.of(wd)][profiles[choice.of(wd)].index.get_level_values(1) == wd]
                                     for wd in range(7)])
                rows[name] = rows.get(name, 0) + split_errors(hist, origin, profile)
    table = pd.DataFrame({name: [*(e[:, 0] / e[:, 1]), e[:, 0].sum() / e[:, 1].sum()] for name, e in rows.items()},
                         index=[*DAYS, "all"]).T
    print(f"interval WAPE of each day's actual total split by the profile, {args.weeks} weekly origins from 1999-07-03")
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
