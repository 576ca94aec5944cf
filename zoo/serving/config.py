"""TF Serving's model config: which exports a server loads, and under which labels.

`write_model_config` scans an export root (`saved_models/<name>/<version>/`) and
writes the text protobuf that `tensorflow_model_server --model_config_file` reads:
every model, all its versions, optional `stable`/`canary` version labels.

Reference: TensorFlow Serving, "TensorFlow Serving Configuration" guide.
"""

import os
import re

from zoo import files

MODEL_CONFIG = "models.config"


def docker_command(base_path="saved_models"):
    """The `docker run` line serving `base_path` (mounted at /models) with its models.config."""
    mount = base_path if os.path.isabs(base_path) else "$PWD/" + os.path.normpath(base_path)
    return (
        f'docker run -p 8501:8501 -p 8500:8500 -v "{mount}:/models" tensorflow/serving '
        "--model_config_file=/models/models.config"
    )


DOCKER_COMMAND = docker_command()
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

# -- models.config ----------------------------------------------------------------


def find_models(base_path="saved_models"):
    """Exported models under `base_path`: `{name: [versions]}`, both sorted.

    A model is a folder `base_path/<name>` holding at least one all-digit version
    folder with a `saved_model.pb`. Hidden folders (the `.VERSION.tmp-*` folders an
    export in progress writes) and folders without a SavedModel are left out.

    Args:
        base_path: str, the export root. Default "saved_models".

    Returns:
        dict mapping model name to its sorted int versions.

    Raises:
        FileNotFoundError: if `base_path` is not a folder.
    """
    if not files.isdir(base_path):
        raise FileNotFoundError(f"base_path {base_path!r} is not a folder")
    models = {}
    for name in sorted(files.listdir(base_path)):
        folder = os.path.join(base_path, name)
        if name.startswith(".") or not _NAME.fullmatch(name) or not files.isdir(folder):
            continue
        found = sorted(
            int(v)
            for v in files.listdir(folder)
            if re.fullmatch(r"\d+", v) and files.isfile(os.path.join(folder, v, "saved_model.pb"))
        )
        if found:
            models[name] = found
    return models


def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_labels(labels, models):
    """`labels` as `{name: {label: version}}` after checking names, labels and versions."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise ValueError(f"labels must be a dict {{model: {{label: version}}}}, got {type(labels).__name__}")
    for name, mapping in labels.items():
        if name not in models:
            raise ValueError(f"labels: no exported model {name!r}; found {sorted(models) or 'none'}")
        if not isinstance(mapping, dict):
            raise ValueError(f"labels[{name!r}] must be a dict {{label: version}}, got {mapping!r}")
        for label, version in mapping.items():
            if not isinstance(label, str) or not _LABEL.fullmatch(label):
                raise ValueError(f"labels[{name!r}]: a label is a name such as 'stable' or 'canary', got {label!r}")
            if version not in models[name]:
                raise ValueError(
                    f"labels[{name!r}][{label!r}]: version {version!r} is not exported; "
                    f"versions: {models[name]}"
                )
    return labels


def model_config_text(base_path="saved_models", root=None, labels=None):
    """The `--model_config_file` text protobuf for the models under `base_path`.

    Args:
        base_path: str, the export root to scan. Default "saved_models".
        root: str or None, the absolute path at which the *server* sees
            `base_path`: "/models" when the folder is mounted into the
            tensorflow/serving Docker image with `-v "$PWD/saved_models:/models"`.
            None (default) uses the absolute path of `base_path` on this machine.
        labels: None or dict `{model: {label: version}}`, e.g.
            `{"digits_dcgan": {"stable": 1, "canary": 2}}`, written as
            `version_labels` so clients can ask for `/labels/stable`.

    Returns:
        str, the config text.

    Raises:
        ValueError: no model found, a relative `root`, or a bad label.
    """
    models = find_models(base_path)
    if not models:
        raise ValueError(
            f"base_path {base_path!r} holds no exported model (expected NAME/<version>/saved_model.pb)"
        )
    if root is None:
        root = os.path.abspath(base_path)
    elif not isinstance(root, str) or not root.startswith("/"):
        raise ValueError(f"root must be an absolute path such as '/models', got {root!r}")
    labels = _check_labels(labels, models)
    lines = ["model_config_list {"]
    for name in models:
        lines += [
            "  config {",
            f"    name: {_quoted(name)}",
            f"    base_path: {_quoted(root.rstrip('/') + '/' + name)}",
            '    model_platform: "tensorflow"',
            "    model_version_policy {",
            "      all {",
            "      }",
            "    }",
        ]
        for label, version in sorted(labels.get(name, {}).items()):
            lines += ["    version_labels {", f"      key: {_quoted(label)}", f"      value: {version}", "    }"]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_model_config(base_path="saved_models", path=None, root=None, labels=None):
    """Writes TF Serving's `--model_config_file` for every model under `base_path`.

    Each model is served from `ROOT/<name>` with all its versions loaded
    (`model_version_policy { all {} }`). The file is written to a temporary file
    and renamed into place, so a server polling it (`--model_config_file_poll_wait_seconds`)
    never reads half a file.

    Args:
        base_path: str, the export root to scan. Default "saved_models".
        path: str or None, the file to write; None writes `base_path/models.config`.
        root: str or None, where the server sees `base_path` (see
            `model_config_text`); "/models" for the Docker command below. None:
            the absolute path of `base_path`.
        labels: None or dict `{model: {label: version}}` of version labels.

    Returns:
        The path written.

    Raises:
        ValueError: no model found, a relative `root`, or a bad label.

    Example:
        >>> write_model_config("saved_models", root="/models")  # doctest: +SKIP
        # docker run -p 8501:8501 -p 8500:8500 -v "$PWD/saved_models:/models" \\
        #     tensorflow/serving --model_config_file=/models/models.config
    """
    text = model_config_text(base_path, root=root, labels=labels)
    return files.write_bytes(path or os.path.join(base_path, MODEL_CONFIG), text.encode())
