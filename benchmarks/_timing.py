"""Step timing for the throughput benchmarks; imports no TensorFlow, so JAX workers can use it."""

import time

import keras


class StepClock(keras.callbacks.Callback):
    """When fit's training loop and each of its steps begin and end (`time.perf_counter`).

    Keras hands a callback with batch hooks the step's logs as Python floats, so on JAX,
    which dispatches asynchronously, a step's end is read after its results exist.
    """

    def __init__(self):
        super().__init__()
        self.train_begin, self.begins, self.ends = None, [], []

    def on_train_begin(self, logs=None):
        self.train_begin = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self.begins.append(time.perf_counter())

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def timed_fit(model, data, steps):
    """Runs one `fit` call of `steps` steps and returns its timings in seconds.

    `data` is what `fit` reads: a dataset, or a dict of `fit` arguments (`x`, `y`,
    `batch_size`). `loop_seconds` spans fit's training loop, from the start of training to
    the end of the last step (callbacks included); throughput is computed from it.
    `fit_seconds` is the whole call, which also creates and tears down the data iterator.
    """
    inputs = data if isinstance(data, dict) else {"x": data}
    clock = StepClock()
    start = time.perf_counter()
    model.fit(**inputs, epochs=1, steps_per_epoch=steps, shuffle=False, callbacks=[clock], verbose=0)
    end = time.perf_counter()
    return {
        "loop_seconds": clock.ends[-1] - clock.train_begin,
        "fit_seconds": end - start,
        "first_step_end_seconds": clock.ends[0] - start,
        "step_seconds": [e - b for b, e in zip(clock.begins, clock.ends)],
    }
