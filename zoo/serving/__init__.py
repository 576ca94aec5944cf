"""Serving zoo exports with TF Serving, split by role.

- `zoo.serving.config`: `write_model_config`, the `--model_config_file` for every
  export under a base path, with optional `stable`/`canary` version labels.
- `zoo.serving.warmup`: `write_warmup_requests`, the records TF Serving replays
  when it loads a version (`zoo.export` writes them for every export).
- `zoo.serving.client`: `ServingClient` (REST, standard library only) and
  `GrpcServingClient` (gRPC, `pip install zoo[serving]`).

Everything is importable from `zoo.serving` itself.

Reference: TensorFlow Serving, "RESTful API", "SavedModel Warmup" and "TensorFlow
Serving Configuration" guides (tensorflow.org/tfx/serving).
"""

from zoo.serving.client import GrpcServingClient, ServingClient, ServingConnectionError, ServingError
from zoo.serving.config import (
    DOCKER_COMMAND,
    MODEL_CONFIG,
    docker_command,
    find_models,
    model_config_text,
    write_model_config,
)
from zoo.serving.warmup import (
    WARMUP_FILE,
    default_warmup_inputs,
    parse_prediction_log,
    prediction_log_bytes,
    read_warmup_requests,
    write_warmup_requests,
)

__all__ = [
    "DOCKER_COMMAND", "MODEL_CONFIG", "WARMUP_FILE", "GrpcServingClient", "ServingClient",
    "ServingConnectionError", "ServingError", "default_warmup_inputs", "docker_command", "find_models",
    "model_config_text", "parse_prediction_log", "prediction_log_bytes", "read_warmup_requests",
    "write_model_config", "write_warmup_requests",
]  # fmt: skip
