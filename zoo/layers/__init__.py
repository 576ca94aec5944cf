"""Custom layers with `get_config`, used by the nets in `zoo.nets`."""

from zoo.layers.minibatch import MinibatchDiscrimination, MinibatchStdDev
from zoo.layers.subpixel import DepthToSpace
from zoo.layers.weight_norm import WeightNormDense, initialize_weight_norm

__all__ = ["DepthToSpace", "MinibatchDiscrimination", "MinibatchStdDev", "WeightNormDense", "initialize_weight_norm"]
