"""Smoke test of benchmarks/mnist_vae.py: a tiny run on the shared MNIST IDX files."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mnist_vae.py"


@pytest.mark.slow
def test_quick_run_records_the_vae_bound_and_the_autoencoder_and_vae_gan_comparison(tmp_path, shared_mnist):
    spec = importlib.util.spec_from_file_location("mnist_vae", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    output = tmp_path / "results" / "mnist_vae.json"
    bench.main(["--quick", "--data", shared_mnist, "--output", output])
    (record,) = json.loads(output.read_text())["records"]
    assert (record["num_train"], record["num_validation"], record["num_test"]) == (500, 100, 200)
    assert record["published_nll"] == 86.76 and record["target_nll"] == 95.0
    vae, ae, vae_gan = (record["models"][name] for name in ("vae", "autoencoder", "vae_gan"))
    # 784 binary pixels: a barely trained model is far from 0 nats and below ~784 log 2 + KL.
    assert 50 < vae["test_nll_iwae"] <= vae["test_negative_elbo"] + 1.0 < 1000
    assert vae["iwae_samples"] == 5 and vae["train_negative_elbo"] > 0
    assert "best_epoch" in vae["training"] and "best_epoch" not in vae_gan["training"]  # no early stopping
    assert {"d_loss", "g_loss", "recon_loss", "kl_loss"} <= set(vae_gan["training"]["final"])
    assert "test_nll_iwae" not in vae_gan  # no pixel likelihood to bound
    for entry in (vae, ae, vae_gan):
        assert entry["training"]["updates"] >= 1 and entry["training"]["epochs"] >= 1
        assert -1 <= entry["reconstruction_ssim"] <= 1
        scores = entry["random_codes"]
        assert scores["fid"] > 0 and scores["floor_fid"] >= 0 and 0.1 <= scores["confidence"] <= 1
        assert Path(entry["figure"]).is_file()
