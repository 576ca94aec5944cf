"""The `zoo` command end to end on tiny runs."""

import os
import subprocess
import sys

import pytest

from zoo import checkpoint, cli, export


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_names_models_and_datasets(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in ("dcgan", "gan", "keras_io_dcgan", "digits", "lfw_faces", "mnist", "celeb_a"):
        assert f"  {name} " in out
    assert "  cgan            [labelled] class-conditional" in out and "zoo train NAME --help" in out
    assert "  facades        image pairs for pix2pix (downloaded): CMP Facades" in out and "  night2day " in out


def test_unknown_model_and_dataset_list_the_known_ones(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "stylegan9", "--dataset", "digits"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "invalid choice: 'stylegan9'" in err and "'acgan', 'autoencoder'" in err
    code, _, err = run(capsys, "train", "gan", "--dataset", "imagenet")
    assert code == 2 and "unknown dataset 'imagenet'; known: celeb_a" in err


def test_an_empty_folder_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, "train", "gan", "--dataset", str(tmp_path), "--run-dir", str(tmp_path / "r"))
    assert code == 2 and str(tmp_path) in err


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["sample", "--help"], ["export", "--help"], ["list", "--help"]])
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    assert "usage: zoo" in capsys.readouterr().out


def test_train_help_shows_the_models_own_options_and_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "wgan", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "--clip-value" in out and "(default: 0.01)" in out and "--d-steps" in out and "--dataset" in out
    assert "--loss" not in out and "--base-filters" in out and "--beta-1" not in out
    with pytest.raises(SystemExit):
        cli.main(["train", "dcgan", "--help"])
    out = capsys.readouterr().out
    assert "--loss {non_saturating,minimax,least_squares,hinge}" in out and "--clip-value" not in out
    assert "(default: 128)" in out  # dcgan's batch size, the paper's


def test_an_option_of_another_model_is_refused_by_the_parser(capsys):
    for argv, expected in (
        (["train", "wgan", "--dataset", "digits", "--loss", "hinge"], "unrecognized arguments: --loss hinge"),
        (["train", "dcgan", "--dataset", "digits", "--loss", "wasserstein"], "invalid choice: 'wasserstein'"),
        (["train", "dcgan", "--dataset", "digits", "--learning-rate", "fast"], "expected a float, got 'fast'"),
        (["train", "dcgan", "--dataset", "digits", "--label-smoothing", "-0.1"], "expected a number >= 0.0"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
        assert expected in capsys.readouterr().err, argv


def test_bad_numbers_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "gan", "--dataset", "digits", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_train_resume_sample_and_export(capsys, tmp_path):
    run_dir, base = str(tmp_path / "run"), str(tmp_path / "models")
    common = ["train", "gan", "--dataset", "digits", "--batch-size", "8", "--steps-per-epoch", "2",
              "--limit", "64", "--image-size", "16", "--run-dir", run_dir, "--quiet"]
    code, out, err = run(capsys, *common, "--epochs", "1", "--export", "digits_gan", "--base-path", base)
    assert code == 0, err
    assert os.path.isfile(os.path.join(run_dir, "samples", "latest.png"))
    assert os.path.isdir(os.path.join(base, "digits_gan", "1"))
    assert checkpoint.read_progress(os.path.join(run_dir, "checkpoint"))["epoch"] == 1

    code, out, err = run(capsys, *common, "--epochs", "2")
    assert code == 0, err
    assert "Resuming from" in out
    assert checkpoint.read_progress(os.path.join(run_dir, "checkpoint"))["epoch"] == 2

    code, out, err = run(capsys, "sample", "--checkpoint", os.path.join(run_dir, "checkpoint"),
                         "--num", "4", "--output", str(tmp_path / "a.png"))
    assert code == 0, err
    assert os.path.isfile(tmp_path / "a.png")
    code, out, err = run(capsys, "sample", "--export", os.path.join(base, "digits_gan"),
                         "--num", "4", "--output", str(tmp_path / "b.png"))
    assert code == 0, err
    assert os.path.isfile(tmp_path / "b.png")

    code, out, err = run(capsys, "export", "--checkpoint", os.path.join(run_dir, "checkpoint"),
                         "--name", "digits_gan", "--base-path", base)
    assert code == 0, err
    assert export.versions(base, "digits_gan") == [1, 2]


def test_sample_needs_exactly_one_source(capsys):
    code, _, err = run(capsys, "sample")
    assert code == 2 and "exactly one of --checkpoint" in err


def test_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "zoo")
    if not os.path.exists(script):
        pytest.skip("zoo is not pip-installed in this environment")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "zoo train dcgan" in result.stdout


# -- zoo evaluate --------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_generators(tmp_path_factory):
    """A 16x16 GAN saved as a checkpoint and as an export, and a domain classifier for 16x16."""
    import keras

    from zoo import metrics, models, nets

    root = tmp_path_factory.mktemp("evaluate")
    keras.utils.set_random_seed(0)
    gan = models.GAN(nets.mlp_generator(8, (16, 16, 1), hidden_units=(16,)), nets.mlp_discriminator((16, 16, 1), hidden_units=(16,)))
    gan.compile()
    checkpoint.save(gan, str(root / "checkpoint"))
    export.export_generator(gan, "tiny", base_path=str(root / "models"))
    classifier = nets.domain_classifier((16, 16, 1), feature_dim=8, filters=(4,), name="digits16")
    metrics.save_domain_classifier(classifier, root / "digits16.keras")
    return root


def test_evaluate_a_checkpoint_and_an_export(capsys, tiny_generators):
    import json

    root = tiny_generators
    output = str(root / "results" / "evaluate.jsonl")
    common = ["--reference", "digits", "--limit", "100", "--num-samples", "64", "--extractor",
              str(root / "digits16.keras"), "--output", output]
    code, out, err = run(capsys, "evaluate", str(root / "checkpoint"), "--metric", "fid", "--metric", "kid",
                         "--metric", "is", *common)
    assert code == 0, err
    # --limit 100 of digits' 1,797: a part of the reference, so no "_full"
    assert "fid64 " in out and "kid64 " in out and "is64" in out and "appended 3 records" in out
    code, out, err = run(capsys, "evaluate", str(root / "models" / "tiny"), *common)
    assert code == 0, err
    records = [json.loads(line) for line in open(output)]
    assert [r["metric"] for r in records] == ["fid64", "kid64", "is64", "fid64"]
    assert records[0]["extractor"] == "classifier:digits16" and records[0]["reference"] == "digits"
    assert records[0]["num_samples"] == 64 and records[0]["reference_images"] == 100
    assert records[0]["reference_split"] is None  # digits has no splits: every image is read
    assert records[0]["model"] == str(root / "checkpoint") and records[3]["model"] == str(root / "models" / "tiny")
    # The export serves the checkpoint's generator: with the same noise, the same FID.
    assert records[3]["value"] == pytest.approx(records[0]["value"], rel=1e-4)


def test_evaluate_against_mnist_idx_files(capsys, tiny_generators, tmp_path):
    import gzip
    import struct

    import numpy as np

    images = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = (np.arange(40) % 10).astype(np.uint8)
    for name, array in (("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labels)):
        header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
        (tmp_path / name).write_bytes(gzip.compress(header + array.tobytes()))
    root = tiny_generators
    code, out, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", f"mnist_idx:{tmp_path}",
                         "--reference-split", "all", "--extractor", str(root / "digits16.keras"),
                         "--output", str(tmp_path / "r.jsonl"))
    assert code == 0, err
    assert "fid40_full" in out  # 40 reference images resized to the generator's 16x16, as many samples


def test_evaluate_errors_are_one_line(capsys, tiny_generators, monkeypatch):
    import keras

    root = tiny_generators
    clf = str(root / "digits16.keras")
    cases = [
        (["--metric", "fidd", "--extractor", clf], "metrics must be a non-empty list of fid, kid, pr, dc, is, accuracy"),
        (["--metric", "accuracy", "--extractor", clf], "metric 'accuracy' needs a conditional model"),
        (["--extractor", str(root / "missing.keras")], "--extractor must be 'inception' or a .keras classifier"),
        (["--extractor", clf, "--reference", "imagenet"], "unknown reference 'imagenet'"),
        (["--extractor", "inception"], "--inception-weights PATH"),
    ]

    def offline(**kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    for extra, message in cases:
        argv = ["evaluate", str(root / "checkpoint"), "--reference", "digits", *extra]
        code, out, err = run(capsys, *argv)
        assert code == 2 and message in err, (extra, err)
        assert err.count("\n") == 1
    code, _, err = run(capsys, "evaluate", str(root / "nowhere"), "--reference", "digits", "--extractor", clf)
    assert code == 2 and "no checkpoint or export at" in err


def test_stats_file_then_evaluate_against_it(capsys, tiny_generators, tmp_path):
    """`zoo stats` once, then `zoo evaluate --reference stats.npz`: the FID of the images themselves."""
    import json

    import numpy as np

    from zoo import metrics

    root, stats, output = tiny_generators, str(tmp_path / "digits16.npz"), str(tmp_path / "r.jsonl")
    clf = ["--extractor", str(root / "digits16.keras")]
    code, out, err = run(capsys, "stats", "digits", "--output", stats, "--image-size", "16", "16", *clf)
    assert code == 0, err
    assert "1797 images of digits (16x16), extractor classifier:digits16" in out and "wrote" in out
    mu, sigma, info = metrics.load_statistics(stats)
    assert info == {"extractor": "classifier:digits16", "reference": "digits", "num_images": "1797",
                    "full_reference": "True", "image_size": "16x16"}
    assert mu.shape == (8,) and sigma.shape == (8, 8)
    common = ["--num-samples", "64", "--output", output, *clf]
    code, out, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", stats, *common)
    assert code == 0, err
    code, out, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", "digits", *common)
    assert code == 0, err
    from_stats, from_images = [json.loads(line) for line in open(output)]
    assert from_stats["metric"] == from_images["metric"] == "fid64_full"
    assert from_stats["value"] == pytest.approx(from_images["value"], rel=1e-6)
    assert from_stats["reference"] == stats and from_stats["reference_of_statistics"] == "digits"
    # Statistics of one extractor are not compared with another's features, and KID needs features.
    from zoo import nets

    metrics.save_domain_classifier(nets.domain_classifier((16, 16, 1), feature_dim=8, filters=(4,)),
                                   tmp_path / "other16.keras")
    code, _, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", stats, "--extractor",
                       str(tmp_path / "other16.keras"))
    assert code == 2 and ("holds statistics of classifier:digits16 features; this evaluation uses "
                          "classifier:other16") in err
    code, _, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", stats, "--metric", "kid", *clf)
    assert code == 2 and "metrics kid need the reference images' features (a statistics file" in err
    # A part of the reference (--limit) is not "_full"; another tool's file (no metadata) is not either.
    code, out, err = run(capsys, "stats", "digits", "--output", stats, "--image-size", "16", "16", "--limit", "500",
                         *clf)
    assert code == 0, err
    code, out, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", stats, *common)
    assert code == 0 and "fid64 " in out and "fid64_full" not in out, err
    np.savez(tmp_path / "other_tool.npz", mu=mu, sigma=sigma)
    code, out, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", str(tmp_path / "other_tool.npz"),
                         *common)
    assert code == 0 and "does not say how it was made" in out and "fid64 " in out, err
    record = [json.loads(line) for line in open(output)][-1]
    assert record["reference_extractor"] == "unknown (another tool's file)"
    np.savez(tmp_path / "wide.npz", mu=np.zeros(2048), sigma=np.eye(2048))
    code, _, err = run(capsys, "evaluate", str(root / "checkpoint"), "--reference", str(tmp_path / "wide.npz"), *clf)
    assert code == 2 and "holds statistics of 2048-d features; classifier:digits16 gives 8-d ones" in err


def test_evaluate_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", "--help"])
    assert exit_info.value.code == 0
    assert "--reference-split" in capsys.readouterr().out


def test_evaluate_a_conditional_export_with_accuracy(capsys, tmp_path):
    import json

    from zoo import metrics, models, nets

    shape = (16, 16, 1)
    cgan = models.ConditionalGAN(
        nets.dcgan_generator(8, shape, base_filters=4, num_classes=10),
        nets.dcgan_discriminator(shape, base_filters=4, num_classes=10),
        num_classes=10,
    )
    export.export_generator(cgan, "cgan", base_path=str(tmp_path))
    metrics.save_domain_classifier(nets.domain_classifier(shape, feature_dim=8, filters=(4,)), tmp_path / "c.keras")
    output = str(tmp_path / "r.jsonl")
    code, out, err = run(capsys, "evaluate", str(tmp_path / "cgan"), "--metric", "fid", "--metric", "accuracy",
                         "--reference", "digits", "--limit", "50", "--extractor", str(tmp_path / "c.keras"),
                         "--output", output)
    assert code == 0, err
    records = {r["metric"]: r for r in map(json.loads, open(output))}
    assert sorted(records) == ["accuracy50", "fid50", "worst_label_accuracy50"]
    assert 0.0 <= records["worst_label_accuracy50"]["value"] <= records["accuracy50"]["value"] <= 1.0


def test_train_and_sample_a_conditional_model(capsys, tmp_path):
    run_dir, base = str(tmp_path / "run"), str(tmp_path / "models")
    code, out, err = run(
        capsys, "train", "cgan", "--dataset", "digits", "--batch-size", "8", "--steps-per-epoch", "2",
        "--limit", "64", "--image-size", "16", "--base-filters", "4", "--latent-dim", "8",
        "--epochs", "1", "--run-dir", run_dir, "--quiet", "--export", "digits_cgan", "--base-path", base,
    )
    assert code == 0, err
    assert export.read_metadata(os.path.join(base, "digits_cgan", "1"))["num_classes"] == 10
    for source in (["--checkpoint", os.path.join(run_dir, "checkpoint")], ["--export", os.path.join(base, "digits_cgan")]):
        output = str(tmp_path / "grid.png")
        code, out, err = run(capsys, "sample", *source, "--num", "25", "--output", output)
        assert code == 0, err
        assert "wrote 20 samples" in out  # 25 // 10 = 2 per class, one row per class


def test_conditional_model_on_unlabelled_data_is_a_clear_error(capsys):
    code, _, err = run(capsys, "train", "acgan", "--dataset", "lfw_faces", "--epochs", "1")
    assert code == 2 and "no class labels" in err


def test_classifier_trains_saves_and_serves_evaluate(capsys, tmp_path):
    path = str(tmp_path / "digits.keras")
    code, out, err = run(capsys, "classifier", "--dataset", "digits", "--image-size", "16", "--epochs", "1",
                         "--output", path)
    assert code == 0, err
    assert os.path.isfile(path) and "saved:" in out
    from zoo import metrics

    assert metrics.load_domain_classifier(path).output_shape == (None, 10)
    code, _, err = run(capsys, "classifier", "--dataset", "lfw_faces", "--output", path)
    assert code == 2 and "no class labels" in err
    code, _, err = run(capsys, "classifier", "--dataset", "digits", "--output", str(tmp_path / "x.h5"))
    assert code == 2 and ".keras" in err


def test_evaluate_ppl_of_a_stylegan_checkpoint_and_refuses_an_export(capsys, tiny_generators, tmp_path):
    import json

    import keras

    from zoo import metrics, models, nets

    root = tiny_generators
    keras.utils.set_random_seed(0)
    style_gan = models.StyleGAN(
        nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2),
        nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8),
        nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2),
        seed=0,
    )
    style_gan.compile()
    checkpoint.save(style_gan, str(tmp_path / "checkpoint"))
    output = str(tmp_path / "evaluate.jsonl")
    clf = str(root / "digits16.keras")
    common = ["--metric", "ppl_w", "--reference", "digits", "--limit", "20", "--num-samples", "8",
              "--extractor", clf, "--output", output, "--seed", "1"]
    code, out, err = run(capsys, "evaluate", str(tmp_path / "checkpoint"), *common)
    assert code == 0, err
    assert "ppl_w_end8" in out and "appended 1 records" in out
    [record] = [json.loads(line) for line in open(output)]
    extractor = metrics.ClassifierExtractor.from_path(clf)
    expected = metrics.evaluate.ppl_of(style_gan, extractor, "w", 8, seed=1)["ppl_w_end8"]
    assert record["metric"] == "ppl_w_end8" and record["value"] == pytest.approx(expected, rel=1e-5)
    # Linear separability of the classifier's 10 classes (each against the rest) in W and Z.
    code, out, err = run(capsys, "evaluate", str(tmp_path / "checkpoint"), *common, "--metric", "ls_w",
                         "--metric", "ls_z", "--num-samples", "40")
    assert code == 0, err
    separability = {r["metric"]: r["value"] for r in map(json.loads, open(output)) if r["metric"].startswith("ls_")}
    assert sorted(separability) == ["ls_w40", "ls_z40"]
    assert all(1.0 <= v <= 2.0 ** 10 for v in separability.values())
    # An export (or any generator without the mapping and synthesis nets) is refused in one line.
    code, _, err = run(capsys, "evaluate", str(root / "models" / "tiny"), *common)
    assert code == 2 and "needs a style-based generator with a mapping and a synthesis net" in err
    assert "exports are not supported" in err and err.count("\n") == 1


def test_train_snapshot_flags(capsys, tmp_path):
    run_dir = tmp_path / "run"
    common = ["train", "gan", "--dataset", "digits", "--batch-size", "8", "--steps-per-epoch", "4", "--limit", "64",
              "--image-size", "16", "--run-dir", str(run_dir), "--quiet", "--epochs", "2"]
    # 24 images = 3 batches between snapshots, across the epoch end; the last epoch is always saved.
    code, out, err = run(capsys, *common, "--snapshot-every", "24img", "--keep-snapshots", "2")
    assert code == 0, err
    assert sorted(os.listdir(run_dir / "checkpoint")) == ["epoch-000001-batch-000002", "epoch-000002"]
    for flags, message in [
        (["--snapshot-every", "2kimg", "--save-freq", "5"], "drop --save-freq"),
        (["--best", "fid"], "the --metric flags score nothing"),
        (["--best", "recall", "--metric", "fid"], "the --metric flags score fid"),
    ]:
        code, _, err = run(capsys, *common, *flags)
        assert code == 2 and message in err, (flags, err)
    for bad in ("0", "5 images", "kimg", "-3"):
        with pytest.raises(SystemExit):
            cli.main([*common, "--snapshot-every", bad])
        assert "expected epochs (5), images (20000img)" in capsys.readouterr().err
    assert cli._snapshot_every("20kimg") == ("images", 20000) and cli._snapshot_every("3 epochs") == ("epochs", 3)


def test_train_scores_during_training_and_logs_scalars_to_tensorboard(capsys, tmp_path):
    judge, run_dir = str(tmp_path / "judge.keras"), tmp_path / "run"
    code, _, err = run(capsys, "classifier", "--dataset", "digits", "--image-size", "16", "--epochs", "1",
                       "--output", judge)
    assert code == 0, err
    code, out, err = run(
        capsys, "train", "cgan", "--dataset", "digits", "--image-size", "16", "--limit", "64", "--batch-size", "8",
        "--steps-per-epoch", "2", "--epochs", "2", "--base-filters", "4", "--latent-dim", "8", "--quiet",
        "--run-dir", str(run_dir), "--metric", "fid", "--metric", "accuracy", "--every", "2", "--extractor", judge,
        "--reference-limit", "40", "--tensorboard", "--best", "accuracy",
    )
    assert code == 0, err
    assert "scoring fid, accuracy every 2 epoch(s) against 40 images of digits" in out
    best = checkpoint.read_progress(str(run_dir / "checkpoint" / "best"))
    assert best["epoch"] == 2 and best["extra"]["best"]["mode"] == "max"  # scored at epoch 2 only
    import csv
    import json

    rows = list(csv.DictReader(open(run_dir / "history.csv")))
    assert [row["fid40"] != "" for row in rows] == [False, True]  # epoch 2 only (--reference-limit: no "_full")
    assert 0.0 <= float(rows[1]["accuracy40"]) <= 1.0
    records = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    assert {r["metric"] for r in records} >= {"fid40", "accuracy40"}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard" / "train"))
    events.Reload()
    assert {"epoch_d_loss", "epoch_g_loss", "epoch_fid40"} <= set(events.Tags()["scalars"]) | set(
        events.Tags().get("tensors", []))
    code, _, err = run(capsys, "train", "pix2pix", "--dataset", "digits", "--metric", "fid")
    assert code == 2 and "--metric scores sampled images; pix2pix serves images -> images" in err


def test_train_takes_mnist_idx_files_as_the_other_commands_do(capsys, tmp_path, write_mnist_idx):
    idx = write_mnist_idx(tmp_path / "mnist")
    common = ["--batch-size", "8", "--steps-per-epoch", "2", "--limit", "64", "--image-size", "16", "--epochs", "1",
              "--quiet"]
    code, out, err = run(capsys, "train", "dcgan", "--dataset", f"mnist_idx:{idx}", *common,
                         "--run-dir", str(tmp_path / "dcgan"))
    assert code == 0, err
    assert "training dcgan on mnist_idx:" in out and "(16, 16, 1)" in out
    assert checkpoint.read_progress(str(tmp_path / "dcgan" / "checkpoint"))["epoch"] == 1
    # A bare IDX folder too, with its digit labels for a class-conditional model.
    code, out, err = run(capsys, "train", "cgan", "--dataset", str(idx), *common, "--base-filters", "4",
                         "--latent-dim", "8", "--run-dir", str(tmp_path / "cgan"), "--export", "idx_cgan",
                         "--base-path", str(tmp_path / "models"))
    assert code == 0, err
    assert export.read_metadata(str(tmp_path / "models" / "idx_cgan" / "1"))["num_classes"] == 10


def test_train_on_missing_or_unknown_data_names_mnist_idx(capsys, tmp_path):
    code, _, err = run(capsys, "train", "gan", "--dataset", "imagenet")
    assert code == 2 and "mnist_idx:DIR or a folder of MNIST IDX files" in err
    code, _, err = run(capsys, "train", "gan", "--dataset", f"mnist_idx:{tmp_path / 'missing'}")
    assert code == 2 and "MNIST IDX directory not found" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        cli.main(["train", "gan", "--help"])
    assert "mnist_idx:DIR" in capsys.readouterr().out


def test_ctrl_c_stops_with_a_message_and_status_130(monkeypatch, tmp_path, capsys):
    from zoo import training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train_phases", interrupted)
    status = cli.main(["train", "dcgan", "--dataset", "digits", "--epochs", "1", "--base-filters", "8",
                       "--run-dir", str(tmp_path / "run"), "--limit", "256"])
    assert status == 130
    err = capsys.readouterr().err
    assert "stopped by Ctrl-C" in err and "resume" in err and "Traceback" not in err
