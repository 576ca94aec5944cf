"""A Keras callback that scores the generator every few epochs during `fit`."""

import numbers

import keras

from zoo.metrics import evaluate


class EvaluationCallback(keras.callbacks.Callback):
    """Logs FID/KID/P&R/D&C/IS/accuracy/PPL/separability of the model being trained every `every_n_epochs` epochs.

    On every Nth epoch end, and on the last epoch of `fit`, it runs
    `zoo.metrics.evaluate_generator(self.model, ...)` with a fixed seed (the same noise
    and labels every time, so successive epochs compare) and writes the values, named
    by protocol (`fid2k_full`, ...), into the epoch's `logs`. Callbacks placed AFTER this
    one in the `callbacks` list see them: put it before `CSVLogger` and `TensorBoard`
    (Keras adds `History` and the progress bar after every user callback). Keras'
    `CSVLogger` fixes its columns on the first epoch, so with `every_n_epochs > 1` its
    file lacks the metric columns; `zoo.callbacks.HistoryCSV` (what `zoo.training.train`
    writes history.csv with) adds them. The JSON-lines file (`jsonl_path`) records every
    evaluation.
    The reference features are computed once, at the first evaluation.

    Args:
        extractor: feature extractor (see `zoo.metrics.extractors`).
        reference_images: float array `(N, H, W, C)` in [-1, 1], images of the
            generator's shape.
        every_n_epochs: int >= 1. Default 1.
        metrics: names from `zoo.metrics.METRICS`. Default ("fid",).
        num_samples: int or None (`len(reference_images)`), images generated each time.
            Default None.
        reference_labels: None or int array `(N,)`, for conditional models.
        jsonl_path: None or str, a JSON-lines file to append every result to (with the
            epoch). Default None.
        seed: int, seed of the noise, labels and KID subsets. Default 0.
        batch_size: int, images per generator/extractor call. Default 256.
        reference_name: str, what the reference set is, for the JSON records.
            Default "reference".
        full_reference: bool, whether `reference_images` is the whole reference set
            (names get `_full`). Default True.

    Example:
    ```python
    extractor = zoo.metrics.ClassifierExtractor.from_path("mnist.keras")
    gan.fit(data, epochs=20, callbacks=[
        zoo.metrics.EvaluationCallback(extractor, real_images, every_n_epochs=5,
                                       metrics=("fid", "kid"), num_samples=2000,
                                       jsonl_path="runs/mnist/metrics.jsonl"),
        keras.callbacks.CSVLogger("runs/mnist/history.csv"),
    ])
    ```

    Reference: Karras et al., "Training Generative Adversarial Networks with Limited
    Data", NeurIPS 2020 (metrics logged during training, appended to JSON lines).
    """

    def __init__(
        self,
        extractor,
        reference_images,
        every_n_epochs=1,
        metrics=("fid",),
        num_samples=None,
        reference_labels=None,
        jsonl_path=None,
        seed=0,
        batch_size=256,
        reference_name="reference",
        full_reference=True,
    ):
        super().__init__()
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, numbers.Integral) or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be a positive int; got {every_n_epochs!r}")
        self.extractor = extractor
        self.reference_images = evaluate._reference(reference_images)
        self.every_n_epochs = int(every_n_epochs)
        self.metrics = evaluate.check_metrics(metrics)
        self.num_samples = len(self.reference_images) if num_samples is None else num_samples
        if isinstance(self.num_samples, bool) or not isinstance(self.num_samples, numbers.Integral) or self.num_samples < 2:
            raise ValueError(f"num_samples must be an int >= 2; got {num_samples!r}")
        self.reference_labels = reference_labels
        self.jsonl_path = jsonl_path
        self.seed = seed
        self.batch_size = batch_size
        self.reference_name = reference_name
        self.full_reference = bool(full_reference)
        self._reference_features = None

    def on_train_begin(self, logs=None):
        # Fail before the first epoch, not after it.
        evaluate.check_metric_requirements(self.model, self.extractor, self.metrics)

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every_n_epochs and done != self.params.get("epochs"):
            return
        if self._reference_features is None and any(m in evaluate.FEATURE_METRICS for m in self.metrics):
            self._reference_features = self.extractor.features(self.reference_images, batch_size=self.batch_size)
        results = evaluate.evaluate_with_reference(
            self.model,
            self.reference_images.shape[1:],
            self._reference_features,
            self.extractor,
            self.metrics,
            num_samples=self.num_samples,
            batch_size=self.batch_size,
            seed=self.seed,
            reference_labels=self.reference_labels,
            full_reference=self.full_reference,
        )
        if logs is not None:
            logs.update(results)
        if self.jsonl_path:
            evaluate.append_results(
                self.jsonl_path,
                results,
                num_samples=self.num_samples,
                reference=self.reference_name,
                extractor=getattr(self.extractor, "name", type(self.extractor).__name__),
                model=self.model.name,
                epoch=done,
            )
