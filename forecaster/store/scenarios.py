"""Stored what-if scenarios: their parameters and base against scenario per queue and day."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from forecaster.store.database import Store, scalar


class Scenarios:
    """Stored what-if scenarios (see :mod:`forecaster.scenario`): parameters and daily results."""

    COLUMNS = ["contacts", "required_agent_h", "required_with_shrinkage_agent_h", "fte", "service_level", "asa_s", "abandon",
               "overloaded_intervals", "spare_agent_h", "cost"]

    def __init__(self, store: Store):
        self.con = store.con

    def save(self, name: str, run_id: int, by: str, params: dict, info: dict,
             base_days: pd.DataFrame, scen_days: pd.DataFrame) -> int:
        """Store one scenario (a name used again gets a new id; the newest counts) in one transaction."""
        sid = scalar(self.con, "SELECT coalesce(max(scenario_id), 0) + 1 FROM scenarios")
        self.con.execute("INSERT INTO scenarios VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [sid, name, run_id, by, dt.datetime.now(), json.dumps(params, default=str),
                          json.dumps(info, default=str)])
        for variant, frame in (("base", base_days), ("scenario", scen_days)):
            staged = frame[["queue", "day", *self.COLUMNS]].assign(scenario_id=sid, variant=variant)
            self.con.register("staged_sc", staged)
            names = ", ".join(["scenario_id", "queue", "day", "variant", *self.COLUMNS])
            self.con.execute(f"INSERT INTO scenario_days ({names}) SELECT {names} FROM staged_sc")
            self.con.unregister("staged_sc")
        return int(sid)

    def list(self) -> pd.DataFrame:
        return self.con.execute(
            """SELECT s.scenario_id, s.name, s.run_id, s.created_by, s.created_at, s.params,
                      sum(d.cost) FILTER (WHERE variant = 'scenario') - sum(d.cost) FILTER (WHERE variant = 'base')
                        AS cost_delta
               FROM scenarios s LEFT JOIN scenario_days d USING (scenario_id)
               GROUP BY ALL ORDER BY s.scenario_id DESC""").df()

    def newest(self, name: str) -> dict | None:
        rows = self.con.execute("""SELECT * FROM scenarios WHERE name = ? ORDER BY scenario_id DESC LIMIT 1""",
                                [name]).df()
        return rows.to_dict("records")[0] if len(rows) else None

    def days(self, scenario_id: int) -> pd.DataFrame:
        return self.con.execute("""SELECT * EXCLUDE (scenario_id) FROM scenario_days WHERE scenario_id = ?
                                   ORDER BY variant, queue, day""", [scenario_id]).df()
