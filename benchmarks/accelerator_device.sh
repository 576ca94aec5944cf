#!/usr/bin/env bash
# The accelerator benchmark (benchmarks/accelerator.py) as one command for a GPU machine that
# holds JAX and PyTorch with CUDA but no TensorFlow and cannot download anything.
#
#   benchmarks/accelerator_device.sh --fetch   # here, with a package index: wheels into .whl/
#   benchmarks/accelerator_device.sh           # there, from the repository root: install, run
#
# --fetch downloads, for CPython 3.12 on x86-64 Linux (the lent machines' Python), the wheels
# that such a machine lacks: keras and the two of its needs that a JAX/PyTorch image usually
# lacks (namex, optree). zoo itself travels as source and runs from PYTHONPATH. Extra
# `pip download` names can follow --fetch (e.g. `--fetch h5py==3.14.0`).
#
# The run installs .whl/*.whl into /tmp/site, copies the MNIST IDX files' folder from
# $MNIST (default .bench_data/mnist, which `--fetch` fills from ../shared/data/mnist), and
# runs the parts in order of importance: peak, throughput, quality, stylegan2, so that a run
# cut short by the timeout (BENCH_TIMEOUT seconds, default 540) keeps the records of the parts
# it finished. Results are appended to $OUT/accelerator.json (a copy of the repository's
# benchmarks/results/accelerator.json, so it can replace it) with the log and figures
# beside it; without $OUT, to benchmarks/results/. Arguments after the options are passed on
# to accelerator.py, after the defaults below, so they win.
set -uo pipefail
cd "$(dirname "$0")/.."

WHEELS=.whl
MNIST=${MNIST:-.bench_data/mnist}

if [[ "${1:-}" == "--fetch" ]]; then
    shift
    mkdir -p "$WHEELS" "$MNIST"
    keras_version=$(python3 -c "import importlib.metadata as m; print(m.version('keras'))" 2>/dev/null ||
        .venv/bin/python -c "import importlib.metadata as m; print(m.version('keras'))")
    platforms=()
    for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64; do
        platforms+=(--platform "$tag")
    done
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        "${platforms[@]}" -d "$WHEELS" "keras==$keras_version" namex optree "$@" || exit 1
    shared=${ZOO_SHARED_DATA:-../shared/data}/mnist
    if [[ -d "$shared" ]]; then
        install -m 0644 "$shared"/t10k-* "$MNIST"/
    else
        echo "no MNIST IDX folder at $shared: put t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) in $MNIST" >&2
    fi
    for path in "$WHEELS" "$(dirname "$MNIST")"; do  # keep them out of git; they travel as carried paths
        grep -qxF "/$path/" .git/info/exclude 2>/dev/null || echo "/$path/" >> .git/info/exclude
    done
    ls -l "$WHEELS" "$MNIST"
    exit 0
fi

if compgen -G "$WHEELS/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
if [[ "$OUT" != benchmarks/results && -f benchmarks/results/accelerator.json ]]; then
    cp benchmarks/results/accelerator.json "$OUT/accelerator.json"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import jax, torch; print('jax', jax.__version__, jax.devices(), '| torch', torch.__version__, torch.cuda.is_available())"

timeout --signal=INT "${BENCH_TIMEOUT:-540}" python3 benchmarks/accelerator.py \
    --mnist "$MNIST" --output "$OUT/accelerator.json" \
    --parts peak,throughput,quality,stylegan2 --torch-compile-cases dcgan64_b128 \
    --rounds 3 --steps 40 --sg2-rounds 2 --sg2-minutes 1 \
    "$@" 2>&1 | tee "$OUT/accelerator.log"
