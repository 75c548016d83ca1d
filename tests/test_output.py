"""Files written atomically and durably: synced before the rename, the folder after it."""

from __future__ import annotations

import pandas as pd
import pytest

from forecaster.core.errors import UserError
from forecaster.io import output


def test_the_file_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_replace = output.os.replace
    monkeypatch.setattr(output, "fsync_path", lambda p: events.append(("fsync", p)))
    monkeypatch.setattr(output.os, "replace", lambda a, b: (events.append(("rename", b)), real_replace(a, b)))
    target = tmp_path / "out" / "t.csv"
    output.write_table(pd.DataFrame({"a": [1, 2]}), target)
    assert [e[0] for e in events] == ["fsync", "rename", "fsync"]
    assert events[1][1] == target and events[2][1] == target.parent
    assert pd.read_csv(target)["a"].tolist() == [1, 2]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "t.bin"
    output.write_bytes(target, b"old")

    def broken(tmp):
        open(tmp, "wb").write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(UserError, match="cannot write"):
        output.write_atomic(target, broken)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["t.bin"]
