"""Design matrices per day or interval, in one place.

Three builders, each named for the model it serves. They differ on purpose in what they hold
(harmonics, trend origin, weekday coding), because the models were scored with them; merging
them changes the forecasts and is left to the accuracy work, which measures it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


# -- learning the shapes -----------------------------------------------------------------------
def carryover_design(dates: pd.DatetimeIndex, hol: pd.DataFrame) -> np.ndarray:
    t = (dates - dates[0]).days.to_numpy() / 365.25
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    weekday = np.eye(7)[dates.weekday]
    h = hol.reindex(dates)
    return np.column_stack([weekday, t, np.sin(doy), np.cos(doy), np.sin(2 * doy), np.cos(2 * doy),
                            h["after_holiday"].to_numpy(), h["bridge"].to_numpy()])


def interval_design(index: pd.DatetimeIndex, hol: pd.DataFrame, cmp: pd.DataFrame | None) -> pd.DataFrame:
    """Per day of ``index`` (dates or interval starts): the holiday effects (public holiday the site
    works through, first day after a closed holiday, bridge day) and the campaign adstock columns."""
    day = index.normalize()
    h = hol.reindex(day)
    x = pd.DataFrame(index=index)
    x["after_holiday"], x["bridge"] = h["after_holiday"].to_numpy(float), h["bridge"].to_numpy(float)
    x["holiday_open"] = (h["holiday"] * (1 - h["closed"])).to_numpy(float)     # holidays the site works through
    if cmp is not None:
        for col in cmp.columns:
            x[col] = cmp[col].reindex(day).fillna(0.0).to_numpy()
    return x.fillna(0.0)


def daily_design(dates: pd.DatetimeIndex, hol: pd.DataFrame, yearly: bool = True) -> pd.DataFrame:
    """Weekday, yearly Fourier terms (when ``yearly``), trend and the holiday effects of
    :func:`interval_design`."""
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    x = interval_design(dates, hol, None)
    for w in range(1, 7):
        x[f"wd{w}"] = (dates.weekday == w).astype(float)
    if yearly:
        x["sin1"], x["cos1"], x["sin2"], x["cos2"] = np.sin(doy), np.cos(doy), np.sin(2 * doy), np.cos(2 * doy)
    x["trend"] = (dates - pd.Timestamp("2000-01-01")).days.to_numpy() / 365.25   # without it ARIMA differences X too
    return x


HARMONICS = 4


def impact_design(dates: pd.DatetimeIndex, hol: pd.DataFrame) -> pd.DataFrame:
    """Weekday, trend, yearly Fourier terms and holiday effects per day."""
    x = pd.DataFrame(index=dates)
    for w in range(7):
        x[f"wd{w}"] = (dates.weekday == w).astype(float)
    x["trend"] = (dates - dates[0]).days.to_numpy() / 365.25
    doy = 2 * np.pi * dates.dayofyear.to_numpy() / 365.25
    for k in range(1, HARMONICS + 1):
        x[f"sin{k}"], x[f"cos{k}"] = np.sin(k * doy), np.cos(k * doy)
    h = hol.reindex(dates)
    for col in ("after_holiday", "bridge"):
        x[col] = h[col].to_numpy(float)
    x["holiday_open"] = (h["holiday"] * (1 - h["closed"])).to_numpy(float)
    return x.loc[:, x.std() > 0].assign(wd_all=0.0).drop(columns="wd_all")
