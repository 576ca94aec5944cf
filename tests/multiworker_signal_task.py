"""One worker of the two-process SIGTERM test in tests/test_multiworker_wait.py (run as a script).

    TF_CONFIG=... ZOO_WAIT_REPORT_S=1 python multiworker_signal_task.py RUN_DIR

Makes the multi-worker strategy (waiting for the other worker, reporting every
second), builds the small MLP GAN of `test_distributed.mlp_gan` under it and
trains it for 3 epochs of 4 global batches with a TrainingCheckpoint in
RUN_DIR/checkpoint; worker 1 sends itself SIGTERM after the second batch of
the second epoch. Both workers should stop there with status 143. Before
training it prints whether a handler catches SIGTERM (it should not: Python
leaves it at the default action).
"""

import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(run_dir):
    from test_distributed import mlp_data, mlp_gan
    from test_multiworker_wait import _SendSignal

    from zoo import callbacks, distributed

    strategy = distributed.make_strategy("multi_worker")
    index = strategy.cluster_resolver.task_id
    # TensorFlow's setup installs a SIGTERM handler that only records the signal; make_strategy removes it.
    with open("/proc/self/status") as f:
        caught = int(next(line for line in f if line.startswith("SigCgt:")).split()[1], 16)
    print(f"after make_strategy, a handler catches SIGTERM: {bool(caught & (1 << (signal.SIGTERM - 1)))}")
    with strategy.scope():
        gan = mlp_gan()
    extra = [_SendSignal(signal.SIGTERM, [(1, 1)])] if index == 1 else []
    distributed.distributed_fit(
        gan, distributed.shard_by_data(mlp_data()), epochs=3, verbose=0,
        callbacks=[callbacks.TrainingCheckpoint(os.path.join(run_dir, "checkpoint")), *extra],
    )
    print("training ended")


if __name__ == "__main__":
    main(sys.argv[1])
