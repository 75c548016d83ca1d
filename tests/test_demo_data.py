"""The bundled demo data is what its seeded generator makes, fits the demo config and is rich enough."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from forecaster.core.config import load_config
from forecaster.io.actuals import load_actuals
from tests.conftest import ROOT

DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="module")
def generated():
    spec = importlib.util.spec_from_file_location("generate_demo", ROOT / "data" / "generate_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate()


def test_committed_files_match_the_generator(generated):
    committed = pd.read_csv(DEMO / "actuals.csv.gz")
    pd.testing.assert_frame_equal(committed, generated["actuals"].astype(committed.dtypes.to_dict()))
    cal = pd.read_csv(DEMO / "campaigns.csv", keep_default_na=False)
    assert cal["campaign_id"].tolist() == generated["campaigns"]["campaign_id"].tolist()
    truth = pd.read_csv(DEMO / "campaign_truth.csv")
    assert truth["realised"].sum() == generated["campaign_truth"]["realised"].sum()
    spec = importlib.util.spec_from_file_location("generate_demo", ROOT / "data" / "generate_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    agents = pd.read_csv(DEMO / "agents.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(agents, module.make_agents(), check_dtype=False)


def test_demo_actuals_are_valid_and_complete():
    config = load_config(ROOT / "configs" / "example.yaml")
    result = load_actuals(DEMO / "actuals.csv.gz", config)
    assert result.warnings == []
    frame = result.frame
    assert set(frame["queue"]) == set(config.queue_names)
    span = frame["interval_start"].max() - frame["interval_start"].min()
    assert span >= pd.Timedelta(days=730)


def test_calendar_has_past_and_planned_campaigns_per_channel():
    cal = pd.read_csv(DEMO / "campaigns.csv", keep_default_na=False)
    planned = cal["notes"] == "planned"
    assert (~planned).sum() >= 40 and planned.sum() >= 5
    assert {"direct_mail", "email", "tv", "sms", "social"} <= set(cal["channel"])
    truth = pd.read_csv(DEMO / "campaign_truth.csv")
    assert set(truth["campaign_id"]) == set(cal.loc[~planned, "campaign_id"])
    per = truth.groupby("campaign_id")["realised"].sum()
    reach = cal.set_index("campaign_id")["reach"]
    # bigger campaigns of a channel cause more contacts
    mail = cal.loc[(cal.channel == "direct_mail") & ~planned, "campaign_id"]
    assert pd.Series(per[mail].to_numpy()).corr(pd.Series(reach[mail].to_numpy())) > 0.7
