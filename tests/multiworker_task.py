"""One worker of the two-process test in tests/test_distributed.py (run as a script).

    TF_CONFIG=... python multiworker_task.py WORK_DIR [--keras-fit]

Builds the small GAN of `test_distributed.small_gan` under
MultiWorkerMirroredStrategy, loads the initial weights the test saved in
WORK_DIR/init.npz, trains with `zoo.distributed.distributed_fit` on the
test's global batches (sharded with AutoShardPolicy.DATA) with a
TrainingCheckpoint and a CSVLogger under WORK_DIR/run, and writes its final
weights and logs to WORK_DIR/worker<index>.npz and .json; then trains again
with a stop asked on worker 1 only and records how many batches ran. With --keras-fit it
instead tries `model.fit` once and records the error (keras-team/keras#20585).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(work_dir, keras_fit=False):
    from test_distributed import EPOCHS, small_gan, training_data

    from zoo import callbacks, distributed

    strategy = distributed.make_strategy("multi_worker")
    index = strategy.cluster_resolver.task_id
    with strategy.scope():
        gan = small_gan()
    with np.load(os.path.join(work_dir, "init.npz")) as init:
        gan.set_weights([init[f"{i:03d}"] for i in range(len(init.files))])
    data = distributed.shard_by_data(training_data())
    record = {"index": index, "chief": distributed.is_chief(strategy), "replicas": strategy.num_replicas_in_sync}
    if keras_fit:
        try:
            gan.fit(data, epochs=1, verbose=0)
            record["keras_fit_error"] = None
        except Exception as error:  # noqa: BLE001 (the error is what is recorded)
            record["keras_fit_error"] = f"{type(error).__name__}: {error}"[:500]
    else:
        batch_logs = []
        run_dir = os.path.join(work_dir, "run")
        os.makedirs(run_dir, exist_ok=True)
        history = distributed.distributed_fit(
            gan,
            data,
            epochs=EPOCHS,
            verbose=0,
            callbacks=[
                callbacks.TrainingCheckpoint(os.path.join(run_dir, "checkpoint")),
                keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
                keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(dict(logs))),
            ],
        )
        record["history"] = history.history
        record["batch_logs"] = batch_logs
        weights = {f"{i:03d}": np.asarray(w) for i, w in enumerate(gan.get_weights())}
        np.savez(os.path.join(work_dir, f"worker{index}.npz"), **weights)
        # A stop asked by one worker only (as TimeLimit may) must stop both.
        stopped = []

        def stop_on_worker1(batch, logs):
            stopped.append(batch)
            if index == 1 and batch == 1:
                gan.stop_training = True

        distributed.distributed_fit(
            gan, data, epochs=EPOCHS, verbose=0,
            callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=stop_on_worker1)],
        )
        record["stopped_run_batches"] = len(stopped)
    with open(os.path.join(work_dir, f"worker{index}.json"), "w") as f:
        json.dump(record, f)


if __name__ == "__main__":
    main(sys.argv[1], keras_fit="--keras-fit" in sys.argv[2:])
