"""Evaluation metrics for generative models, computed from activations.

The feature extractor is passed in (TF-GAN's `classifier_fn` idea): the FID Inception
under a named input protocol for numbers that compare with papers, or a domain
classifier trained by zoo for small greyscale data, so that FID means something
offline. One metric per file:

- `frechet.py`: FID (Heusel et al. 2017) and its statistics files;
- `precision_recall.py`: precision and recall (Kynkaanniemi et al. 2019), density and
  coverage (Naeem et al. 2020);
- `separability.py`: linear separability of W and Z (Karras et al. 2019);
- `kid.py`: KID (Binkowski et al. 2018);
- `inception_score.py`: Inception / classifier score (Salimans et al. 2016);
- `ssim.py`: SSIM and MS-SSIM (Wang et al. 2004, 2003);
- `colour.py`: PSNR and colourfulness (Hasler & Suesstrunk 2003) for colourisation;
- `ppl.py`: perceptual path length (Karras et al. 2019) and its feature functions;
- `lpips.py`: LPIPS (Zhang et al. 2018, VGG16 v0.1), PPL's published perceptual distance;
- `mode_coverage.py`: modes covered, high-quality samples and reverse KL on 2-D
  Gaussian mixtures (PacGAN, Lin et al. 2018);
- `conditional.py`: accuracy of a held-out classifier on a conditional generator;
- `pairing.py`: correspondence of generated pairs against shuffled ones (CoGAN);
- `extractors.py`, `classifier.py`: the feature extractors and the domain classifier;
- `fid_protocol.py`: how images reach the FID Inception (clean-fid's, pytorch-fid's, TF1's);
- `evaluate.py`, `callback.py`: protocol-named results (`fid10k_full`), JSON lines, and a
  callback that logs them during `fit`;
- `loading.py`: checkpoints, exports and reference datasets for `zoo evaluate`.
"""

from zoo.metrics.callback import EvaluationCallback
from zoo.metrics.classifier import load_domain_classifier, save_domain_classifier, train_domain_classifier
from zoo.metrics.colour import colourfulness, colourisation_scores, psnr
from zoo.metrics.conditional import accuracy_from_scores, conditional_accuracy
from zoo.metrics.evaluate import (
    METRICS,
    append_jsonl,
    append_results,
    evaluate_generator,
    evaluate_with_reference,
    generate_samples,
    judged_scores,
    metric_name,
)
from zoo.metrics.extractors import ClassifierExtractor, InceptionExtractor
from zoo.metrics.frechet import (
    frechet_distance,
    frechet_distance_from_statistics,
    gaussian_statistics,
    load_statistics,
    save_statistics,
)
from zoo.metrics.inception_score import inception_score
from zoo.metrics.kid import kernel_inception_distance, polynomial_kernel
from zoo.metrics.loading import ExportedGenerator, load_generator, load_reference
from zoo.metrics.lpips import LPIPS
from zoo.metrics.mode_coverage import mode_coverage, mode_coverage_for
from zoo.metrics.pairing import pairing_error
from zoo.metrics.precision_recall import density_coverage, precision_recall
from zoo.metrics.ppl import (
    perceptual_path_length,
    ppl_features_classifier,
    ppl_features_lpips,
    ppl_features_vgg16,
)
from zoo.metrics.separability import attributes_from_classifier, linear_separability, separability_of
from zoo.metrics.ssim import cycle_scores, ms_ssim, ssim, translation_scores

__all__ = [
    "METRICS",
    "ClassifierExtractor",
    "EvaluationCallback",
    "ExportedGenerator",
    "InceptionExtractor",
    "LPIPS",
    "accuracy_from_scores",
    "attributes_from_classifier",
    "density_coverage",
    "linear_separability",
    "load_statistics",
    "precision_recall",
    "save_statistics",
    "separability_of",
    "colourfulness",
    "colourisation_scores",
    "append_jsonl",
    "append_results",
    "conditional_accuracy",
    "cycle_scores",
    "evaluate_generator",
    "psnr",
    "evaluate_with_reference",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "gaussian_statistics",
    "generate_samples",
    "inception_score",
    "judged_scores",
    "kernel_inception_distance",
    "load_domain_classifier",
    "load_generator",
    "load_reference",
    "metric_name",
    "mode_coverage",
    "mode_coverage_for",
    "ms_ssim",
    "pairing_error",
    "perceptual_path_length",
    "polynomial_kernel",
    "ppl_features_classifier",
    "ppl_features_lpips",
    "ppl_features_vgg16",
    "save_domain_classifier",
    "translation_scores",
    "ssim",
    "train_domain_classifier",
]
