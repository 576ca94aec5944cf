"""The PyTorch reference implementations of FID, KID and LPIPS, run in a process of their own.

    python torch_references.py TASK INPUT.npz OUTPUT.npz

The tests of zoo's FID Inception and metrics compare with pytorch-fid, clean-fid,
torch-fidelity and lpips. Those import torchvision, whose `torch._dynamo` loads triton, and that
crashes a process where TensorFlow is already loaded (a segmentation fault seen with
torch 2.14.1). So the references run here, without TensorFlow or zoo, and exchange
numpy arrays through `.npz` files. Exit status 3 means a reference package the task
needs is missing (the caller skips).

Tasks:
- `inception`: INPUT holds uint8 image sets `images_*` (N, H, W, 3). Writes a random
  FID Inception state dict to OUTPUT's folder as `fid_inception.pth` in torch.save's
  legacy format (the format of pytorch-fid's published file), and OUTPUT gets, for each
  set, pytorch-fid's pool features (`pytorch_fid_*`), torch-fidelity's pool features
  and unbiased logits (`tf1_*`, `tf1_logits_*`), clean-fid's resized images
  (`clean_resized_*`), and the fc weights (`fc_weight`).
- `frechet`: INPUT holds `mu1 sigma1 mu2 sigma2`; OUTPUT gets pytorch-fid's and
  clean-fid's distances, and pytorch-fid's distance from the statistics files
  `stats1`, `stats2` (paths given as 0-d strings) read by pytorch-fid.
- `state_dicts`: writes a small state dict of several dtypes and a non-contiguous
  tensor in both torch.save formats (`zip.pth`, `legacy.pth` in OUTPUT's folder);
  OUTPUT gets its tensors as float64/int64 arrays under their names.
- `kid`: INPUT holds `features1 features2` (N, D) with N = M: torch-fidelity's KID with
  one subset of all N rows.
- `lpips`: INPUT holds image pairs `x_*`, `y_*` (N, H, W, 3) float32 in [-1, 1]. Builds
  `lpips.LPIPS(net="vgg", version="0.1")` with the package's linear weights and a random
  VGG16 trunk (`pnet_rand=True`, torchvision's initialisation), writes the trunk as a
  torchvision VGG16 state dict (`features.N.*`, legacy format, as `vgg16-397923af.pth`
  is) to OUTPUT's folder as `vgg16_random.pth`; OUTPUT gets the distances `lpips_*` (N,)
  and the linear weights `lin0` ... `lin4` (C,) the package loaded.
"""

import os
import sys

try:
    import torchvision  # noqa: F401  (first: see above)
    import torch
except ImportError as error:
    print(f"reference packages missing: {error}")
    sys.exit(3)

import numpy as np  # noqa: E402


def random_state_dict(seed=0):
    """A FID Inception state dict with random weights and batch-norm statistics.

    Convolutions get He-normal weights and batch norms statistics near identity, so
    activations stay of order 1 through the 94 layers and a relative comparison
    means something.
    """
    torch.manual_seed(seed)
    net = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None, init_weights=False)
    generator = torch.Generator().manual_seed(seed)
    state = net.state_dict()
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        shape = value.shape
        if key.endswith("conv.weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            value.copy_(torch.randn(shape, generator=generator) * (2.0 / fan_in) ** 0.5)
        elif key.endswith("running_mean") or key.endswith("bn.bias"):
            value.copy_(torch.randn(shape, generator=generator) * 0.1)
        elif key.endswith("running_var") or key.endswith("bn.weight"):
            value.copy_(torch.rand(shape, generator=generator) * 0.5 + 0.75)
        elif key == "fc.weight":
            value.copy_(torch.randn(shape, generator=generator) * 2048 ** -0.5)
        elif key == "fc.bias":
            value.copy_(torch.randn(shape, generator=generator) * 0.1)
    return state


def inception(inputs, folder):
    import cleanfid.resize
    import pytorch_fid.inception
    import torch_fidelity.feature_extractor_inceptionv3

    state = random_state_dict()
    weights = os.path.join(folder, "fid_inception.pth")
    torch.save(state, weights, _use_new_zipfile_serialization=False)
    pytorch_fid.inception.load_state_dict_from_url = lambda *args, **kwargs: state
    pytorch_fid_net = pytorch_fid.inception.InceptionV3([3]).eval()
    fidelity_net = torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=weights
    )
    resize = cleanfid.resize.build_resizer("clean")
    out = {"fc_weight": state["fc.weight"].numpy()}
    for key, images in inputs.items():
        name = key[len("images_"):]
        chw = torch.from_numpy(images).permute(0, 3, 1, 2)
        with torch.no_grad():
            out[f"pytorch_fid_{name}"] = pytorch_fid_net(chw.float() / 255.0)[0][:, :, 0, 0].numpy()
            pool, logits = fidelity_net(chw)
        out[f"tf1_{name}"], out[f"tf1_logits_{name}"] = pool.numpy(), logits.numpy()
        out[f"clean_resized_{name}"] = np.stack([resize(image) for image in images])
    return out


def frechet(inputs, folder):
    import cleanfid.fid
    import pytorch_fid.fid_score

    mu1, sigma1, mu2, sigma2 = (inputs[k] for k in ("mu1", "sigma1", "mu2", "sigma2"))
    from_files = [pytorch_fid.fid_score.compute_statistics_of_path(str(inputs[k]), None, 1, 2048, "cpu")
                  for k in ("stats1", "stats2")]
    return {
        "pytorch_fid": pytorch_fid.fid_score.calculate_frechet_distance(mu1, sigma1, mu2, sigma2),
        "clean_fid": cleanfid.fid.frechet_distance(mu1, sigma1, mu2, sigma2),
        "pytorch_fid_files": pytorch_fid.fid_score.calculate_frechet_distance(*from_files[0], *from_files[1]),
    }


def kid(inputs, folder):
    import torch_fidelity.metric_kid

    features1, features2 = inputs["features1"], inputs["features2"]
    result = torch_fidelity.metric_kid.kid_features_to_metric(
        torch.from_numpy(features1), torch.from_numpy(features2),
        kid_subsets=1, kid_subset_size=len(features1), verbose=False,
    )
    return {"kid": result["kernel_inception_distance_mean"]}


def state_dicts(inputs, folder):
    torch.manual_seed(0)
    state = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4)).state_dict()
    state.update({
        "half": torch.randn(3, 2).half(), "bfloat16": torch.randn(5).bfloat16(),
        "strided": torch.randn(4, 6)[:, 1:4], "long": torch.arange(7), "flag": torch.tensor([True, False]),
        "parameter": torch.nn.Parameter(torch.randn(2, 2)),
    })
    torch.save(state, os.path.join(folder, "zip.pth"))
    torch.save(state, os.path.join(folder, "legacy.pth"), _use_new_zipfile_serialization=False)
    return {k: v.detach().double().numpy() if v.is_floating_point() else v.numpy() for k, v in state.items()}


def lpips_distances(inputs, folder):
    import lpips

    torch.manual_seed(0)
    reference = lpips.LPIPS(net="vgg", version="0.1", pretrained=True, pnet_rand=True, verbose=False).eval()
    trunk = {}
    for key, value in reference.net.state_dict().items():  # "slice1.0.weight": features[0]'s weight
        trunk[f"features.{key.split('.', 1)[1]}"] = value
    torch.save(trunk, os.path.join(folder, "vgg16_random.pth"), _use_new_zipfile_serialization=False)
    out = {f"lin{i}": layer.model[-1].weight.detach().numpy().reshape(-1) for i, layer in enumerate(reference.lins)}
    for key in inputs:
        if key.startswith("x_"):
            name = key[len("x_"):]
            x, y = (torch.from_numpy(inputs[f"{side}_{name}"]).permute(0, 3, 1, 2) for side in ("x", "y"))
            with torch.no_grad():
                out[f"lpips_{name}"] = reference(x, y).reshape(-1).numpy()
    return out


def main(argv):
    task, source, target = argv
    with np.load(source) as f:
        inputs = {k: f[k] for k in f.files}
    tasks = {"inception": inception, "frechet": frechet, "kid": kid, "state_dicts": state_dicts,
             "lpips": lpips_distances}
    try:  # each task imports the reference packages it needs first
        out = tasks[task](inputs, os.path.dirname(target))
    except ModuleNotFoundError as error:
        print(f"reference packages missing: {error}")
        sys.exit(3)
    np.savez(target, **out)


if __name__ == "__main__":
    main(sys.argv[1:])
