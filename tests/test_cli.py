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
    for name in ("dcgan", "gan", "keras_dcgan", "digits", "lfw_faces", "mnist", "celeb_a"):
        assert f"  {name} " in out


def test_unknown_model_and_dataset_list_the_known_ones(capsys):
    code, _, err = run(capsys, "train", "stylegan9", "--dataset", "digits")
    assert code == 2 and "unknown model 'stylegan9'; known: dcgan, gan, keras_dcgan" in err
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
