"""pix2pix's test mode as a net: a weight-sharing twin of a generator that runs as the paper tests it."""

import keras
from keras import layers

from zoo import checks


def paper_inference_net(net, seed=None):
    """The net as pix2pix runs it at test time, sharing every weight with `net`.

    Isola et al. (2017, section 3.3) run the generator at test time "in exactly
    the same manner as during the training phase": dropout stays on, the only
    noise of the model, and batch norm uses the test batch's statistics, which
    the reference code (`test.py` without `--eval`, batch size forced to 1)
    makes each image's own. Calling a Keras net with `training=True` would do
    that but also update the batch-norm moving averages on every call (on
    every request of a served model), so the twin swaps layers instead:

    - `BatchNormalization` -> `zoo.layers.ImageStatisticsNormalization`
      reading the same `gamma` and `beta`: each image normalised with its own
      statistics, the moving averages neither used nor touched;
    - `Dropout` -> `zoo.layers.NoiseDropout` at the same rate, always on, with
      a seed state of its own (`keras.random.SeedGenerator`), so it draws fresh
      noise on TensorFlow and JAX, in `predict` and in a SavedModel;
    - every other layer, instance normalisation (`GroupNormalization`) and
      nested models included (a frozen feature extractor stays in inference
      mode), is the same layer object: its weights are shared.

    Training `net` changes the twin; the twin never changes `net`'s weights or
    statistics. It is derived, not saved: rebuild it from `net` after loading.

    Args:
        net: a functional `keras.Model`.
        seed: int or None, seed of the first dropout layer's noise (the k-th
            takes `seed + k`); None draws one (reproducible after
            `keras.utils.set_random_seed`). Default None.

    Returns:
        A functional `keras.Model` named `<net.name>_paper` with `net`'s inputs
        and outputs, or `net` itself when it has neither batch norm nor
        dropout at its top level (nothing changes at test time).

    Example:
        >>> g = unet_generator(num_downsamples=3, base_filters=4)
        >>> paper_inference_net(g, seed=0).name
        'unet_generator_paper'
    """
    if not isinstance(net, keras.Model) or not hasattr(net, "_run_through_graph"):
        raise ValueError(f"net must be a functional keras.Model, got {net!r}")
    checks.integer(seed, "seed", none=True)
    swapped, dropouts = [], []

    def swap(layer):
        from zoo.layers import ImageStatisticsNormalization, NoiseDropout

        if isinstance(layer, layers.BatchNormalization):
            swapped.append(ImageStatisticsNormalization.sharing(layer))
        elif type(layer) is layers.Dropout and layer.rate > 0:
            if layer.noise_shape is not None:
                raise ValueError(f"{net.name}/{layer.name}: dropout with a noise_shape is not supported")
            dropouts.append(NoiseDropout(layer.rate, seed=None if seed is None else seed + len(dropouts),
                                         name=layer.name, dtype=layer.dtype_policy))
            swapped.append(dropouts[-1])
        else:
            return layer
        return swapped[-1]

    clone = keras.models.clone_model(net, clone_function=swap)
    if not swapped:
        return net
    twin = keras.Model(clone.input, clone.output, name=f"{net.name}_paper")
    # The twin holds the net: its variables are then all of the net's (the moving statistics and
    # the replaced dropout layers' seeds too), so an export tracking the twin alone has every variable
    # either net reads, each once.
    twin.inference_of = net
    return twin
