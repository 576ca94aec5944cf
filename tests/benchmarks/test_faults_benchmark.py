"""Quick run of benchmarks/faults.py: kills and resumes on JAX, damaged snapshots, a refused writer, concurrent exports."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "faults.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("faults_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a dozen processes: JAX training runs killed and resumed, zoo train and zoo export commands
def test_quick_run_survives_its_kills_refuses_writers_and_versions_exports(bench, tmp_path):
    pytest.importorskip("jax")
    output = tmp_path / "faults.json"
    bench.main(["--quick", "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    kills = record["kills"]
    assert kills["kills_tried"] == 2 and kills["survived"] is True and kills["kills_survived"] == 2
    assert all(run["numbered_exports"] == ["1"] and run["exports_complete"] for run in kills["cycles"])
    # One death inside each kind of write; each left its temporary, and the resume cleared it.
    assert [t["in"] for t in kills["targeted"]] == ["checkpoint", "grid", "export"]
    assert [sum(t["left"].values()) for t in kills["targeted"]] == [1, 1, 1]
    assert kills["targeted_survived"] == 3
    # The newest snapshot damaged after a kill: the resume falls back, says so, and ends as the reference.
    damaged = record["corrupted_snapshots"]
    assert damaged["tried"] == damaged["survived"] == 2 and damaged["kinds"] == ["flipped_byte", "truncated_state"]
    bad = record["bad_inputs"]  # 12 kinds of bad image and a vanishing file, each alone, then all at once
    assert bad["kinds_tried"] == 13 and bad["crashes"] == 0 and bad["shape_kept"] == 14
    assert bad["zoo_train_exit"] == 0 and "skipping 6 unreadable image file(s)" in bad["zoo_train_said"]
    assert record["writers"]["refused"] == record["writers"]["writers_tried"] == 2
    exports = record["exports"]
    assert exports["exit_codes"] == [0, 0, 0] and exports["versions"] == ["1", "2", "3"]
    assert exports["distinct_complete_versions"] == 3 and exports["hidden_left"] == []


def test_an_incomplete_export_folder_is_not_counted(bench, tmp_path):
    version = tmp_path / "1"
    (version / "assets.extra").mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")
    assert not bench._export_complete(version)
    (version / "variables").mkdir()
    (version / "variables" / "variables.index").write_bytes(b"")
    for name in ("zoo.json", "tf_serving_warmup_requests"):
        (version / "assets.extra" / name).write_bytes(b"")
    assert bench._export_complete(version)
