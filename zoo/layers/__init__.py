"""Custom layers with `get_config`, used by the nets in `zoo.nets`."""

from zoo.layers.augment import RandomShift
from zoo.layers.equalized import EqualizedConv2D, EqualizedDense, PixelNormalization
from zoo.layers.fusion import GlobalFusion, NoiseDropout
from zoo.layers.normalization import ImageStatisticsNormalization
from zoo.layers.minibatch import MinibatchDiscrimination, MinibatchStdDev
from zoo.layers.padding import ReflectionPadding2D
from zoo.layers.progressive import FadeIn, LevelOfDetail, LodGate, images_at_lod
from zoo.layers.style import AdaIN, LearnedConstant, ModulatedConv2D, NoiseInjection
from zoo.layers.subpixel import DepthToSpace
from zoo.layers.strided import Conv2D, Conv2DTranspose
from zoo.layers.weight_norm import WeightNormDense, initialize_weight_norm

__all__ = [
    "RandomShift",
    "DepthToSpace",
    "Conv2D", "Conv2DTranspose",
    "AdaIN", "LearnedConstant", "ModulatedConv2D", "NoiseInjection",
    "EqualizedConv2D",
    "EqualizedDense",
    "PixelNormalization",
    "FadeIn",
    "LevelOfDetail",
    "LodGate",
    "images_at_lod",
    "GlobalFusion",
    "NoiseDropout",
    "ImageStatisticsNormalization",
    "MinibatchDiscrimination", "MinibatchStdDev", "ReflectionPadding2D", "WeightNormDense", "initialize_weight_norm"]
