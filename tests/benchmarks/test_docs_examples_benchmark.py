"""Quick run of benchmarks/docs_examples.py: the cGAN example of docs/models.md, its fit timed over 3 steps."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "docs_examples.py"


@pytest.mark.slow  # one child process runs the cGAN block with its fit cut to 3 timed steps
def test_quick_run_finds_the_timed_comments_and_estimates_one(tmp_path):
    spec = importlib.util.spec_from_file_location("docs_examples_benchmark", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    named = {name for block in bench.docs_blocks().read_blocks(bench.MODELS_DOC) for name in
             bench.PLACEHOLDER.findall(block.code) if block.kind != "skip"}
    assert named == set(bench.ANCHORS) - {"CPU_TIME_DCGAN"}, "a timed comment of docs/models.md lost its code"
    output = tmp_path / "docs_examples.json"
    bench.main(["--quick", "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    (entry,) = record["placeholders"]
    assert entry["placeholder"] == "CPU_TIME_CGAN" and entry["docs_line"].startswith("docs/models.md:")
    assert entry["kind"] == "estimated" and 0 < entry["seconds"] < 3600
