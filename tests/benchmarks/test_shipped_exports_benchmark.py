"""Smoke test of benchmarks/shipped_exports.py: a quick scoring of the shipped exports, and the maker's guard."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "shipped_exports.py"


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is a folder of scripts, not a package: load the file itself.
    spec = importlib.util.spec_from_file_location("shipped_exports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def present(bench, kind):
    names = [n for n, s in bench.SHIPPED.items() if s["kind"] == kind and (bench.export_path(n) / "saved_model.pb").is_file()]
    if not names:
        pytest.skip(f"no shipped {kind} export in saved_models/ (remake them with `python3 dev.py shipped`)")
    return names[0]


@pytest.mark.slow  # about 25 s on the loaded 2-core machine (the judge's training)
def test_quick_scoring_of_a_conditional_and_a_colourising_export(bench, tmp_path):
    names = [present(bench, "conditional"), present(bench, "colouriser")]
    output = tmp_path / "shipped.json"
    bench.main(["--quick", "--only", *names, "--output", str(output)])

    (record,) = json.loads(output.read_text())["records"]
    assert record["protocol"]["quick"] and record["protocol"]["num_samples"] == 50
    cgan, colour = (record["exports"][n] for n in names)
    assert 0 < cgan["bytes"] < bench.MAX_BYTES and cgan["under_5_mb"]
    scores = cgan["scores"]
    assert scores["image_shape"] == [32, 32, 1] and -1 <= scores["pixel_range"][0] < scores["pixel_range"][1] <= 1
    assert scores["fid"] > 0 and scores["fid_floor"] > 0 and len(scores["per_label_accuracy"]) == 10
    # Even a 5-epoch judge reads most of the requested digits of a trained cGAN.
    assert scores["accuracy"] > 0.5
    assert colour["scores"]["num_test"] == 32 and colour["scores"]["image_shape"] == [64, 64, 3]
    assert colour["scores"]["colourfulness"] > colour["scores"]["grey"]["colourfulness"] + 5
    for name in names:
        assert (tmp_path / f"shipped_{name}.png").is_file()
    table = bench.readme_table(record)
    assert table.count("\n| `") == 2 and f"{cgan['bytes']:,}" in table and "--export" in table


def test_make_refuses_to_replace_an_export_without_force(bench):
    name = present(bench, "conditional")
    with pytest.raises(SystemExit, match="--force"):
        bench.main(["--make", "--only", name])
    with pytest.raises(SystemExit):  # argparse: --force needs --make
        bench.main(["--force"])
