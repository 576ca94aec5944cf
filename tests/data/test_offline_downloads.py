"""Without network, a download fails in seconds with one message naming the data set and the offline stand-ins.

The network is cut for these tests on any machine, online or not: the subprocesses start
with a `sitecustomize.py` that makes every socket connection and name lookup fail at once
(ENETUNREACH), and the in-process tests patch the same functions.
"""

import errno
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from zoo import files

SITECUSTOMIZE = '''
import errno
import socket


def _unreachable(*args, **kwargs):
    raise OSError(errno.ENETUNREACH, "Network is unreachable (cut by the test)")


socket.socket.connect = socket.socket.connect_ex = _unreachable
socket.create_connection = socket.getaddrinfo = _unreachable
'''
STAND_INS = ("digits", "lfw_faces", "mnist_idx:DIR")
# The child times what follows its imports (TensorFlow alone takes seconds to import on a busy machine).
CHILD = """import sys, time, keras, tensorflow_datasets
start = time.monotonic()
try:
{body}
finally:
    print(f"after imports {{time.monotonic() - start:.2f}} s", file=sys.stderr)
"""


def offline_run(tmp_path, body, *argv):
    """Runs `body` in a fresh Python without network and with empty caches: (returncode, stdout, stderr,
    seconds of the whole process, seconds after the imports)."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("KERAS_HOME", "TFDS_DATA_DIR")}
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env.update(PYTHONPATH=os.pathsep.join([str(site), repo]), HOME=str(home), TFDS_DATA_DIR=str(home / "tfds"),
               TF_CPP_MIN_LOG_LEVEL="3")
    script = CHILD.format(body=textwrap.indent(body, "    "))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script, *argv], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    seconds = time.monotonic() - started
    after_imports = float(result.stderr.rsplit("after imports ", 1)[1].split()[0])
    return result.returncode, result.stdout, result.stderr, seconds, after_imports


def assert_one_clear_message(message, name):
    assert f"{name} needs a download from the internet" in message or f"{name} (keras.datasets) could not" in message
    assert all(stand_in in message for stand_in in STAND_INS), message


def test_load_mnist_without_network_fails_in_seconds(tmp_path):
    code, _, err, seconds, after_imports = offline_run(tmp_path, "import zoo.data\nzoo.data.load('mnist')")
    assert code != 0
    assert "zoo.files.DownloadError: mnist needs a download from the internet (tfds), and storage.googleapis.com " \
           "could not be reached" in err
    assert "data_dir (or set TFDS_DATA_DIR)" in err and "photos" in err
    assert_one_clear_message(err.splitlines()[-1], "mnist")
    assert after_imports < 10, err  # not tfds's minutes of retries
    assert seconds < 60, err


def test_zoo_train_without_network_is_one_line_and_no_traceback(tmp_path):
    body = "from zoo.cli import main\nsys.exit(main(sys.argv[1:]))"
    code, out, err, seconds, after_imports = offline_run(
        tmp_path, body, "train", "dcgan", "--dataset", "mnist", "--epochs", "1", "--run-dir", str(tmp_path / "run"))
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("zoo train: error:")]
    assert len(lines) == 1 and lines[0].startswith("zoo train: error: mnist needs a download from the internet (tfds)")
    assert_one_clear_message(lines[0], "mnist")
    assert after_imports < 10, err
    assert seconds < 60, err


def test_keras_datasets_without_network_say_what_needs_no_download(tmp_path):
    code, _, err, seconds, after_imports = offline_run(tmp_path, "import zoo.data\nzoo.data.in_memory('mnist')")
    assert code != 0
    message = err.splitlines()[-1]
    assert message.startswith("zoo.files.DownloadError: mnist (keras.datasets) could not be loaded"), err
    assert "an MNIST IDX folder" in message and "digits" in message and "lfw_faces" in message
    assert after_imports < 10, err
    assert seconds < 60, err


@pytest.fixture
def no_network(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError(errno.ENETUNREACH, "Network is unreachable (cut by the test)")

    for owner, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"), (socket, "create_connection"),
                        (socket, "getaddrinfo")):
        monkeypatch.setattr(owner, name, unreachable)


def test_a_prepared_data_dir_loads_without_network(tmp_path, no_network):
    tfds = pytest.importorskip("tensorflow_datasets")
    from zoo.data import tfds_loaders

    features = tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(4, 4, 1)),
                                           "label": tfds.features.ClassLabel(num_classes=2)})
    examples = [(i, {"image": np.full((4, 4, 1), i, np.uint8), "label": i % 2}) for i in range(6)]  # (key, example)
    tfds.dataset_builders.store_as_tfds_dataset("zoo_offline_tiny", "1.0.0", features, {"train": examples},
                                                data_dir=str(tmp_path))
    loaded = list(tfds_loaders._load("zoo_offline_tiny", "train", str(tmp_path), as_supervised=False))
    assert sorted(int(example["label"]) for example in loaded) == [0, 0, 0, 1, 1, 1]
    with pytest.raises(files.DownloadError, match=r"^mnist needs a download .* storage.googleapis.com could not be "
                       rf"reached \(\[Errno {errno.ENETUNREACH}\] Network is unreachable \(cut by the test\)\)\. "
                       "Pass data_dir"):
        tfds_loaders._load("mnist", "train", str(tmp_path), as_supervised=True)


def test_downloads_left_by_an_interrupted_prepare_are_not_probed_again(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from tensorflow_datasets.core.download.resource import get_dl_fname

    from zoo.data import tfds_loaders

    builder = tfds.builder("mnist", data_dir=str(tmp_path))
    urls = sorted(builder.url_infos)
    assert sorted(tfds_loaders._urls_to_download(builder)) == urls and len(urls) == 4
    (tmp_path / "downloads").mkdir()
    for url in urls[:3]:
        (tmp_path / "downloads" / get_dl_fname(url, builder.url_infos[url].checksum)).write_bytes(b"")
    assert tfds_loaders._urls_to_download(builder) == urls[3:]  # only the one still missing


def test_mock_data_needs_no_network(no_network):
    tfds = pytest.importorskip("tensorflow_datasets")
    import zoo.data

    with tfds.testing.mock_data(num_examples=4):
        images = next(iter(zoo.data.load("mnist", batch_size=2, cache=False)))
    assert images.shape == (2, 28, 28, 1)


def test_a_download_that_fails_after_the_probe_is_the_same_message(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    import requests

    from zoo.data import tfds_loaders

    def refused(self, *args, **kwargs):
        raise requests.exceptions.ConnectionError("refused by the test")

    monkeypatch.setattr(files, "unreachable", lambda urls: None)  # the hosts answer...
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", refused)  # ...but the download fails
    with pytest.raises(files.DownloadError, match=r"^fashion_mnist needs a download from the internet \(tfds\), and "
                       r"the download failed \(refused by the test\)\. Pass data_dir") as raised:
        tfds_loaders._load("fashion_mnist", "train", str(tmp_path), as_supervised=True)
    assert isinstance(raised.value.__cause__, requests.exceptions.ConnectionError)
