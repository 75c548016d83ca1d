"""The embedded DuckDB store: schema and migrations, actuals, runs and scenarios.

Domain code takes an open :class:`Store` (or :class:`Runs` over one); only ``jobs`` and the CLI
open a store from a path.
"""

from forecaster.store.database import SCHEMA_VERSION, Store, scalar
from forecaster.store.runs import Runs
from forecaster.store.scenarios import Scenarios

__all__ = ["SCHEMA_VERSION", "Runs", "Scenarios", "Store", "scalar"]
