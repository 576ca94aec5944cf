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
