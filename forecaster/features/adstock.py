"""Regressors for forecasting, built in one place: holidays and campaign carry-over (adstock).

Holiday features per date (site level):
* ``holiday``: a public holiday (from ``holidays`` for the config's country);
* ``closed``: the site is closed all day (holidays it closes on, extra closed dates);
* ``after_holiday``: the first day the site opens after a closed holiday (often 20-50 % busier);
* ``bridge``: an open weekday between a holiday and the weekend (Friday after a Thursday holiday,
  Monday before a Tuesday holiday), usually quieter.

Campaign features per queue and date: each campaign's reach (in thousands) is spread evenly
over its flight days and over nothing else; per channel the daily exposure is carried over with
a lag and a geometric decay, the adstock of marketing-mix models:

    adstock[t] = sum over k >= lag of decay ** (k - lag) * exposure[t - k]

Each channel's shape is learned by the campaign-impact model
(:func:`forecaster.campaigns.effects.learn_shapes`, through :func:`search_shapes`), and the
forecast's campaign layer uses that model's shapes.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import pandas as pd

CARRY_DAYS = 28                      # how far an adstock kernel reaches
LAGS = (0, 1, 2, 3, 4)
DECAYS = (0.0, 0.2, 0.4, 0.6, 0.8)
RAMPS = (0, 1, 2)


class Carryover(NamedTuple):
    """A channel's carry-over shape: the response starts ``lag_days`` after the send, ramps up
    linearly over ``ramp_days`` to its peak and then decays geometrically by ``decay`` a day. The
    one shape tuple of both the demand models and the campaign-effects model (``adstock(x, *shape)``)."""

    lag_days: int
    decay: float
    ramp_days: int = 0


DEFAULT_SHAPE = Carryover(0, 0.5, 0)


def flight_spans(campaigns: pd.DataFrame, days: pd.DatetimeIndex) -> list[tuple[int, int, float]]:
    """Per campaign, in order: ``(lo, hi, per_day)``, the positions in the consecutive ``days`` of its
    flight (``lo > hi`` when none falls in them) and the reach in thousands on each flight day (its
    reach spread evenly over the whole flight). A missing reach takes the median reach of the
    channel's campaigns (1,000 if none has one)."""
    given = pd.to_numeric(campaigns["reach"], errors="coerce").astype(float)
    median = given.groupby(campaigns["channel"].to_numpy()).transform("median")   # NaN for a channel with none
    reach = given.fillna(median).fillna(1000.0).to_numpy(float)
    spans = []
    for c, r in zip(campaigns.itertuples(), reach):
        first = (pd.Timestamp(c.start_ts).normalize() - days[0]).days
        last = (pd.Timestamp(c.end_ts).normalize() - days[0]).days
        spans.append((max(first, 0), min(last, len(days) - 1), r / 1000 / max(1, last - first + 1)))
    return spans


def campaign_exposure(campaigns: pd.DataFrame, queues: list[str], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Daily exposure (reach in thousands) per queue, date and channel, from a campaign table.

    ``campaigns`` has ``channel, start_ts, end_ts, queues, reach`` (withdrawn ones removed); reach
    as in :func:`flight_spans`.
    """
    days = pd.date_range(start, end, freq="D")
    cols = ["queue", "date", "channel", "exposure"]
    if campaigns.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for c, (lo, hi, per_day) in zip(campaigns.itertuples(), flight_spans(campaigns, days)):
        for q in c.queues:
            if q in queues:
                rows += [(q, d, c.channel, per_day) for d in days[lo:hi + 1]]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(rows, columns=cols).groupby(["queue", "date", "channel"], as_index=False)["exposure"].sum()


def adstock(x: np.ndarray, lag: int, decay: float, ramp: int = 0) -> np.ndarray:
    """Carry-over of a daily series: a lag, a linear rise over ``ramp`` more days to the peak, then
    geometric decay (kernel of CARRY_DAYS days). ``ramp=0`` is the classic delayed adstock."""
    kernel = np.zeros(CARRY_DAYS)
    peak = lag + ramp
    kernel[lag:peak] = (np.arange(ramp) + 1) / (ramp + 1)
    kernel[peak:] = decay ** np.arange(CARRY_DAYS - peak)
    return np.convolve(x, kernel)[: len(x)]


def campaign_features(exposure: pd.DataFrame, queues: list[str], start: dt.date, end: dt.date,
                      shapes: dict[str, tuple[int, float]]) -> pd.DataFrame:
    """Columns ``cmp_<channel>`` per (queue, date): adstocked exposure with each channel's shape."""
    days = pd.date_range(start, end, freq="D")
    index = pd.MultiIndex.from_product([queues, days], names=["queue", "date"])
    out = pd.DataFrame(index=index)
    wide = exposure.pivot_table(index=["queue", "date"], columns="channel", values="exposure", aggfunc="sum") \
        if len(exposure) else pd.DataFrame(index=index)
    wide = wide.reindex(index, fill_value=0.0).fillna(0.0)
    for channel in sorted(shapes):
        lag, decay, *ramp = shapes[channel]
        col = np.zeros(len(index))
        if channel in wide:
            raw = wide[channel].to_numpy().reshape(len(queues), len(days))
            col = np.concatenate([adstock(row, lag, decay, *ramp) for row in raw])
        out[f"cmp_{channel}"] = col
    return out


def search_shapes(channels: list[str], shapes: dict, candidates: list[tuple], score_all, passes: int) -> tuple[dict, dict]:
    """Coordinate search over carry-over shapes: each channel in turn tries every candidate while
    the others hold their current shape, for ``passes`` rounds; ``score_all(shapes, channel,
    candidates)`` (lower is better) judges each candidate for ``channel`` with the others at
    ``shapes``, as ``{candidate: score}``. Returns the shapes and, per channel, the last round's scores."""
    shapes, scores = dict(shapes), {}
    for _ in range(passes):
        for channel in channels:
            tried = score_all(shapes, channel, candidates)
            shapes[channel] = min(tried, key=tried.get)
            scores[channel] = tried
    return shapes, scores


# -- responses on the activity clock ------------------------------------------------------------
class Response(NamedTuple):
    """A channel's response shape in the campaign-impact model.

    ``clock="calendar"``: :func:`adstock` over calendar days (a response due on a closed day is
    lost). ``clock="activity"``: the response runs on the queue's *activity clock*, which moves as
    fast as the queue is busy: a full day on the busiest weekday, a third of a day on a weekday with
    a third of its volume, not at all on a closed day (the response waits for the next open day),
    and from the send time on only the share of the send day's contacts that still comes after it
    (an e-mail at 13:00 meets the afternoon). On that clock the response waits ``lag_days``, rises
    linearly over ``ramp_days`` and then decays by ``decay`` per activity day (continuously, so a
    fast decay puts the response into the hours after the send)."""

    lag_days: int
    decay: float
    ramp_days: int = 0
    clock: str = "calendar"


ACTIVITY_DECAYS = (0.001, 0.02, 0.1, 0.25, 0.4, 0.6, 0.8)


def activity_cdf(u: np.ndarray, lag: int, decay: float, ramp: int) -> np.ndarray:
    """Share of a response arrived after ``u`` activity days (0 before the lag, 1 in the limit)."""
    tau = -1.0 / np.log(min(max(decay, 1e-6), 0.999))
    mass = ramp / 2 + tau
    t = np.asarray(u, float) - lag
    out = np.clip(t, 0, ramp) ** 2 / (2 * ramp) if ramp else np.zeros_like(t)
    after = np.clip(t - ramp, 0, None)
    out = out + np.where(t > ramp, tau * -np.expm1(-after / tau), 0.0)
    return out / mass


class Activity:
    """How busy a queue is: per weekday, its volume relative to the busiest weekday, and per
    weekday and minute of the day, the share of the day's contacts from that minute on. Learned
    from actuals (:meth:`learn`); without them every day counts fully and contacts spread evenly."""

    def __init__(self, weekday: np.ndarray | None = None, after: np.ndarray | None = None,
                 day_speed: pd.Series | None = None):
        self.weekday = np.ones(7) if weekday is None else np.asarray(weekday, float)
        self.after = np.tile(1 - np.arange(1440) / 1440, (7, 1)) if after is None else after
        self.day_speed = day_speed if day_speed is not None else pd.Series(dtype=float)     # special days' own

    @classmethod
    def learn(cls, actuals: pd.DataFrame, open_days: pd.DatetimeIndex,
              special: pd.DatetimeIndex | None = None) -> "Activity":
        """From one queue's ``interval_start, contacts`` on its ``open_days``. On the ``special`` days
        among them (a holiday the site works through, an eve, an observance) the clock moves as the
        day's own volume says, up to its weekday's speed: a holiday Sunday at an eighth of a Sunday's
        calls holds an eighth of a Sunday's response, not all of it."""
        a = actuals[actuals["interval_start"].dt.normalize().isin(open_days)]
        if a.empty:
            return cls()
        ts = a["interval_start"]
        daily = a.groupby(ts.dt.normalize())["contacts"].sum()
        level = daily.groupby(daily.index.weekday).median().reindex(range(7))
        weekday = (level / level.max()).fillna(level.min() / level.max() if level.notna().any() else 1.0)
        minutes = (ts.dt.hour * 60 + ts.dt.minute).to_numpy()
        per = a.groupby([ts.dt.weekday.to_numpy(), minutes])["contacts"].sum().unstack(fill_value=0.0)
        per = per.reindex(index=range(7), columns=range(1440), fill_value=0.0).to_numpy(float)
        total = per.sum(axis=1, keepdims=True)
        share = np.divide(per, total, out=np.full_like(per, 1 / 1440), where=total > 0)
        after = share[:, ::-1].cumsum(axis=1)[:, ::-1]          # share at or after each minute
        day_speed = None
        if special is not None and len(special) and level.max() > 0:
            on = daily[daily.index.isin(special)]
            day_speed = np.minimum(on / level.max(), weekday.to_numpy(float)[on.index.weekday])
        return cls(weekday.to_numpy(float), np.clip(after, 0.0, 1.0), day_speed)

    def expecting(self, special: pd.DatetimeIndex) -> Activity:
        """This activity with the ``special`` days it has not seen (worked holidays, eves, bridge days
        and observances to come) moving at the share of their weekday's speed that the special days
        it learned moved at (their median); itself when it learned none."""
        new = pd.DatetimeIndex(special).difference(self.day_speed.index)
        learned = self.weekday[self.day_speed.index.weekday] if len(self.day_speed) else np.zeros(0)
        if not len(new) or not (learned > 0).any():
            return self
        share = float(np.median(self.day_speed.to_numpy(float)[learned > 0] / learned[learned > 0]))
        ahead = pd.Series(self.weekday[new.weekday] * share, index=new)
        return Activity(self.weekday, self.after, pd.concat([self.day_speed, ahead]))

    def speed(self, days: pd.DatetimeIndex, open_mask: np.ndarray) -> np.ndarray:
        """How far the clock moves on each day: its weekday's weight (a special day's own, where
        :meth:`learn` or :meth:`expecting` gave it one), 0 on a closed day."""
        speed = self.weekday[days.weekday]
        if len(self.day_speed):
            own = self.day_speed.reindex(days).to_numpy(float)
            speed = np.where(np.isnan(own), speed, own)
        return np.where(open_mask, speed, 0.0)

    def remaining(self, ts: pd.Timestamp) -> float:
        """Share of ``ts``'s day's contacts from ``ts`` on (1 at midnight)."""
        return float(self.after[ts.weekday(), ts.hour * 60 + ts.minute])


INTRADAY_TAUS = (0.03, 0.08, 0.2, 0.5, None)   # in shares of a day's contacts; None: the day's own shape


def after_send_weights(shape: np.ndarray, late: np.ndarray, tau: float | None) -> np.ndarray:
    """How a send-day response spreads over the day's intervals: by the day's ``shape`` over the
    intervals from the send on (``late``), decaying by ``exp(-u / tau)`` in ``u``, the share of
    the day's contacts since the send (``tau=None``: no decay). Sums to 1 (0 if nothing is late)."""
    w = np.where(late, np.maximum(shape, 0.0), 0.0)
    if tau is not None and w.sum() > 0:
        u = np.cumsum(w) - w / 2          # the shape is in shares of the day
        w = w * np.exp(-u / tau)
    total = w.sum()
    return w / total if total > 0 else w
