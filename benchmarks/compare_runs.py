"""Compare two nightly output folders file by file and column by column.

    python -m benchmarks.compare_runs OLD_FOLDER NEW_FOLDER

For a refactoring that should change nothing: every CSV of OLD is read with the columns renamed
in 0.2 mapped to their new names (``forecaster.io.output.OLD_NAMES``), then compared with NEW's
column of the same name (either folder may be 0.1 or 0.2; 0.2's copies under the old names are
left out). Prints one line per file: identical, or the columns that differ (and by how much, for
numbers).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster.io.output import OLD_NAMES, old_names_of


def renames(name: str) -> dict[str, str]:
    kind = old_names_of(name)
    return {old: new for new, old in OLD_NAMES[kind].items()} if kind else {}


def new_names(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A 0.1 file renamed to 0.2's names; a 0.2 file without its 0.1 copies."""
    old_to_new = renames(name)
    if any(new in frame for new in old_to_new.values()):
        return frame.drop(columns=[c for c in old_to_new if c in frame])
    return frame.rename(columns=old_to_new)


def compare(old: Path, new: Path) -> list[str]:
    lines = []
    for a in sorted(old.glob("*.csv")):
        b = new / a.name
        if not b.exists():
            lines.append(f"{a.name}: missing in {new}")
            continue
        fa, fb = new_names(pd.read_csv(a), a.stem), new_names(pd.read_csv(b), a.stem)
        if len(fa) != len(fb) or set(fa.columns) != set(fb.columns):
            lines.append(f"{a.name}: shape or columns differ: {fa.shape} {sorted(fa.columns)} vs {fb.shape} "
                         f"{sorted(fb.columns)}")
            continue
        diff = []
        for col in fa.columns:
            x, y = fa[col], fb[col]
            if x.equals(y):
                continue
            if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
                gap = np.nanmax(np.abs(x.to_numpy(float) - y.to_numpy(float)))
                diff.append(f"{col} (max abs diff {gap:g}, {int((x != y).sum())} rows)")
            else:
                diff.append(f"{col} ({int((x.astype(str) != y.astype(str)).sum())} rows)")
        lines.append(f"{a.name}: " + ("identical" if not diff else "differs in " + ", ".join(diff)))
    return lines


if __name__ == "__main__":
    print("\n".join(compare(Path(sys.argv[1]), Path(sys.argv[2]))))
