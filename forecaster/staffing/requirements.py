"""Staffing as a column-wise layer on the forecast frame: requirements per interval for every queue."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri  # the normal quantile, as scipy.stats.norm.ppf, without its 0.5 s import

from forecaster.core.errors import UserError
from forecaster.core.site_calendar import slot_minutes
from forecaster.staffing.columns import inputs, requirement_columns, staffing_columns
from forecaster.staffing.erlang import ceil_tol, with_shrinkage


def requirements(frame: pd.DataFrame) -> pd.DataFrame:
    """Add staffing columns to a frame of intervals, computed for all rows at once.

    Input columns: ``contacts``, ``aht_s``, ``interval_min``; a target, either ``sl`` (a fraction)
    with ``answer_s`` or ``asa_target_s``; optional ``model`` (``erlang_c``/``erlang_a``),
    ``patience_s`` (Erlang A), ``shrinkage``, ``max_occupancy``, ``max_abandon``, ``min_agents``,
    ``concurrency``. Output columns: ``required_agents`` (productive agents needed),
    ``required_with_shrinkage`` (the agents to schedule for them), ``service_level``, ``asa_s``, ``p_wait``, ``occupancy`` and ``abandon`` (Erlang A
    only; NaN for Erlang C), all at the agents returned (:mod:`forecaster.staffing.columns`).
    """
    return frame.assign(**requirement_columns(inputs(frame)))


def metrics_at(frame: pd.DataFrame, agents) -> pd.DataFrame:
    """``frame`` (columns as for :func:`requirements`) with the metrics at the given agents."""
    return frame.assign(**staffing_columns(inputs(frame), np.asarray(agents, np.int64)))


def deadline_requirements(frame: pd.DataFrame) -> pd.DataFrame:
    """E-mail/back-office staffing: each interval's work spread over the next ``deadline_h`` hours.

    Input: ``queue``, ``interval_start`` (the queue's open intervals), ``contacts``, ``aht_s``,
    ``interval_min``, ``deadline_h``; optional ``max_occupancy``, ``shrinkage``, ``min_agents``.
    Work arriving in an interval is shared evenly by the queue's open intervals from that one up
    to ``deadline_h`` later, so each is answered within its deadline if agents work at
    ``max_occupancy``. Output as :func:`requirements`; queueing metrics are NaN, ``occupancy``
    is the workload over the agents.
    """
    f = frame.assign(**inputs(frame)).sort_values(["queue", "interval_start"], kind="stable")
    load = np.zeros(len(f))
    for _, part in f.groupby("queue", sort=False):
        t = part["interval_start"].to_numpy("datetime64[ns]")
        window = (part["deadline_h"].to_numpy(float) * 3.6e12).astype("timedelta64[ns]")
        end = np.searchsorted(t, t + window, side="left")
        start = np.arange(len(t))
        share = part["contacts"].to_numpy(float) * part["aht_s"].to_numpy(float) / np.maximum(end - start, 1)
        acc = np.zeros(len(t) + 1)
        np.add.at(acc, start, share)
        np.add.at(acc, end, -share)
        load[f.index.get_indexer(part.index)] = np.cumsum(acc)[:-1]
    interval_s = f["interval_min"].to_numpy(float) * 60
    erlangs = load / interval_s
    agents = np.maximum(ceil_tol(erlangs / f["max_occupancy"].to_numpy(float)), f["min_agents"].to_numpy(np.int64))
    out = frame.loc[f.index].copy()
    out["required_agents"] = agents
    out["required_with_shrinkage"] = with_shrinkage(agents, f["shrinkage"].to_numpy(float))
    out["service_level"] = out["asa_s"] = out["p_wait"] = out["abandon"] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["occupancy"] = np.where(agents > 0, erlangs / agents, 0.0)
    return out.loc[frame.index]


# -- staffing a stored forecast --------------------------------------------------------------
def quantile_contacts(forecast: pd.DataFrame, quantile) -> np.ndarray:
    """Contacts at a forecast quantile, from the 80 % band under a normal error shape.

    ``hi_80`` is the 0.9 quantile, so 0.9 gives ``hi_80`` exactly; other quantiles scale the
    band's half-width by the normal z-ratio. ``None`` gives the mean forecast; an array gives
    each row its own quantile.
    """
    mean = forecast["forecast"].to_numpy(float)
    if quantile is None:
        return mean

    q = np.broadcast_to(np.asarray(quantile, float), mean.shape)
    z = ndtri(q) / ndtri(0.9)
    band = np.where(q >= 0.5, forecast["hi_80"].to_numpy(float), forecast["lo_80"].to_numpy(float))
    half = np.where(np.isnan(band), 0.0, np.abs(band - mean))
    return np.maximum(0.0, mean + z * half)


def queue_settings(config) -> pd.DataFrame:
    """One row per queue with its staffing settings, in the column names of :func:`requirements`."""
    return pd.DataFrame([{
        "queue": q.name, "channel": q.channel, "default_aht_s": q.aht_s, "sl": (q.sl_pct or np.nan) / 100,
        "answer_s": q.answer_s, "asa_target_s": q.asa_s, "patience_s": q.patience_s, "shrinkage": q.shrinkage,
        "max_occupancy": q.max_occupancy, "min_agents": q.min_agents, "concurrency": q.concurrency,
        "deadline_h": q.deadline_h} for q in config.queues])


def prepared(forecast: pd.DataFrame, config, quantile: float | None = None, model: str = "erlang_c") -> pd.DataFrame:
    """A forecast (``queue, interval_start, forecast, ...``) in the input columns of
    :func:`requirements`: contacts at the quantile, the queue's settings from the config, the
    forecast's ``aht_s`` where given (else the queue's default) and each slot's real minutes."""
    f = forecast.copy()
    f["contacts"] = quantile_contacts(f, quantile)
    f = f.merge(queue_settings(config), on="queue", how="left", validate="many_to_one")
    aht = f["aht_s"] if "aht_s" in f else pd.Series(np.nan, index=f.index)
    f["aht_s"] = aht.where(aht > 0, f["default_aht_s"])
    minutes = slot_minutes(config, f["interval_start"])     # twice interval_min in the repeated DST hour
    f["interval_min"] = np.where(minutes > 0, minutes, config.interval_min)
    f.loc[minutes == 0, "contacts"] = 0.0                    # a skipped hour has no contacts and needs no one
    f["model"] = model
    return f


KEEP = ["queue", "interval_start", "contacts", "aht_s", "required_agents", "required_with_shrinkage", "service_level",
        "asa_s", "p_wait", "occupancy", "abandon"]


def staff_forecast(forecast: pd.DataFrame, config, quantile: float | None = None,
                   model: str = "erlang_c") -> pd.DataFrame:
    """Requirements per queue and interval of a forecast (``queue, interval_start, forecast, ...``).

    Each queue's settings come from the config (:func:`prepared`). E-mail queues use
    :func:`deadline_requirements`.
    """
    f = prepared(forecast, config, quantile, model)
    email = (f["channel"] == "email").to_numpy()
    parts = []
    if (~email).any():
        parts.append(requirements(f[~email].drop(columns=["deadline_h"])))
    if email.any():
        parts.append(deadline_requirements(f[email]))
    out = pd.concat(parts).sort_values(["queue", "interval_start"], kind="stable")
    return out[KEEP].reset_index(drop=True)


def service_with_agents(forecast: pd.DataFrame, config, agents, quantile: float | None = None,
                        model: str = "erlang_c") -> pd.DataFrame:
    """Service level, ASA and occupancy per interval with the given productive ``agents`` (one per
    row of ``forecast``) instead of the required ones. E-mail rows get NaN queueing metrics."""
    f = prepared(forecast, config, quantile, model).drop(columns=["deadline_h"])
    out = metrics_at(f, np.maximum(np.asarray(agents, float), 0).astype(np.int64))
    email = (f["channel"] == "email").to_numpy()
    out.loc[email, ["service_level", "asa_s", "p_wait", "occupancy", "abandon"]] = np.nan
    return out[KEEP].rename(columns={"required_agents": "agents"}).drop(columns="required_with_shrinkage")


def daily_summary(req: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """Per queue and day: contacts, required agent-hours without and with shrinkage, peak agents."""
    hours = interval_min / 60
    day = pd.to_datetime(req["interval_start"]).dt.date
    g = req.assign(day=day, required_agent_h=req["required_agents"] * hours,
                   required_with_shrinkage_agent_h=req["required_with_shrinkage"] * hours)
    return g.groupby(["queue", "day"], as_index=False).agg(
        contacts=("contacts", "sum"), required_agent_h=("required_agent_h", "sum"),
        required_with_shrinkage_agent_h=("required_with_shrinkage_agent_h", "sum"),
        peak_required_agents=("required_agents", "max")).round(1)


def staff_run(forecast: pd.DataFrame, config, quantile: float | None = None, model: str = "erlang_c") -> dict:
    """Requirements of a stored forecast at the mean and, if given, a quantile (keys ``mean``, ``quantile``)."""
    if model == "erlang_a":
        lacking = [q.name for q in config.queues if q.channel != "email" and q.patience_s is None]
        if lacking:
            raise UserError(f"--model erlang_a needs patience_s for queue(s) {', '.join(lacking)}; add it to the config")
    out = {"mean": staff_forecast(forecast, config, None, model)}
    if quantile is not None:
        out["quantile"] = staff_forecast(forecast, config, quantile, model)
    return out
