"""Fault injection: kill -9 at random moments, damaged snapshots, bad images, a second writer, concurrent exports.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/faults.py                 # 20 kills, 10 writers, 10 exports
    PYTHONPATH=. .venv/bin/python benchmarks/faults.py --quick         # smoke check

Protocol:
    kills       A worker process (KERAS_BACKEND=jax, whose CPU kernels repeat bit for bit)
                trains a tiny DCGAN-style GAN with `zoo.training.train` (checkpoint after every
                batch, a sample grid every epoch, EMA generator), then exports it with
                `zoo.export.export_model`, then writes its final state. An uninterrupted
                run gives the reference state and its duration. The faulty run is started,
                killed with SIGKILL at a uniformly random moment of the work after its
                start-up (the worker says when start-up ends; the moment is drawn from the
                uninterrupted run's duration, so a resumed run, with less left to do,
                sometimes finishes first), restarted, killed again ... until it finishes;
                fresh runs follow until --kills kills are done. Survived: each run's final weights (model
                variables, EMA and noise seed states included) and every optimizer variable
                equal the reference's exactly, and every numbered export folder is whole
                (saved_model.pb, variables, zoo.json, warm-up records). What each kill left
                is counted: a checkpoint's or an export's temporary folder (a kill during
                that write), a sample grid's or history's temporary file. --epochs of
                --batches batches of 32, so that the steps and checkpoint writes are a fair
                share of the run (the start-up, JAX's compiles and the export's TensorFlow
                import take the rest). Random moments rarely fall inside a write, so
                --targeted more runs each die (os._exit(9), as kill -9) right after the data
                of a chosen checkpoint, sample grid or export write is written and before
                its rename, then resume: the same checks, and nothing of the dead write
                may be left at the end.
    corrupt     --corrupt runs are killed once they have two snapshots; the newest is damaged
                (half its state.npz cut off, one byte of it flipped, its progress.json cut
                short, its config.json removed, in turn) and the run resumed: it must say
                which snapshot it passed over, set it aside, and end with the reference state.
    bad inputs  tests/data/bad_image_kinds.py writes each kind of bad image file (readable but
                unusual: 16-bit, CMYK, grey+alpha, palette; unreadable: truncated PNG and JPEG,
                text named .png, a header claiming 20000x20000, empty, a symlink loop) beside
                three good ones, in a folder per kind, plus a file deleted after
                `image_folder` returned, and every kind at once. Each folder is read for two
                epochs: a crash is an exception or a dead process; the images per epoch must be
                the good ones plus the readable kinds. Then `zoo train dcgan` on the folder of
                every kind.
    writers     A `zoo train` runs in a run directory; --writers more `zoo train` commands
                on that directory, two at a time, must each stop with exit status 2 naming
                the holder's pid.
    exports     --exports `zoo export` commands of one checkpoint and name at once must give
                as many distinct, complete versions, each exit status 0.
    output      a JSON record appended to benchmarks/results/faults.json.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARK = "faults"
RESULTS = Path(__file__).resolve().parent / "results" / "faults.json"
ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np, keras
    from zoo import export, nets, training
    from zoo.models import GAN

    run_dir, base_path, out, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    fault = os.environ.get("ZOO_FAULT")  # "checkpoint:N", "grid:N", "export:1": die inside the Nth such write
    if fault:
        import matplotlib.figure
        where, nth = fault.split(":")
        calls = [0]
        def dying(write):
            def wrapped(*args, **kwargs):
                calls[0] += 1
                result = write(*args, **kwargs)  # the data written, the rename to its place not done
                if calls[0] >= int(nth):
                    os._exit(9)
                return result
            return wrapped
        if where == "checkpoint":
            np.savez = dying(np.savez)
        elif where == "grid":
            matplotlib.figure.Figure.savefig = dying(matplotlib.figure.Figure.savefig)
        else:
            export._Archive.write_out = dying(export._Archive.write_out)
    keras.utils.set_random_seed(0)
    gan = GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4), nets.dcgan_discriminator((16, 16, 1), base_filters=4),
              seed=1, ema_momentum=0.9)
    gan.compile()
    data = np.random.default_rng(0).uniform(-1, 1, (32 * int(sys.argv[5]), 16, 16, 1)).astype("float32")
    print("ready", flush=True)
    training.train(gan, data, epochs=epochs, run_dir=run_dir, save_freq=1, verbose=0, num_samples=16)
    if not export.versions(base_path, "faulty"):
        export.export_model(gan, "faulty", base_path=base_path)
    state = {"variables": [np.asarray(keras.ops.convert_to_numpy(v.value)).tolist() for v in gan.variables],
             "optimizers": [np.asarray(keras.ops.convert_to_numpy(v.value)).tolist()
                            for v in gan.d_optimizer.variables + gan.g_optimizer.variables]}
    with open(out, "w") as f:
        json.dump(state, f)
    print("done", flush=True)
    """
)


def _env(backend):
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def _start_worker(script, folder, epochs, batches, fault=None):
    # stderr to a file: a pipe nobody reads while the worker runs could fill and stall it.
    env = {**_env("jax"), **({"ZOO_FAULT": fault} if fault else {})}
    with open(folder / "worker.log", "a") as log:
        return subprocess.Popen(
            [sys.executable, str(script), str(folder / "run"), str(folder / "models"), str(folder / "state.json"),
             str(epochs), str(batches)],
            stdout=subprocess.PIPE, stderr=log, text=True, env=env,
        )


def _log(folder):
    return (folder / "worker.log").read_text()[-3000:]


def _wait_ready(process, folder):
    line = process.stdout.readline().strip()
    if line != "ready":
        process.wait()
        raise RuntimeError(f"the worker did not start: {line!r} {_log(folder)}")
    return time.perf_counter()


def _leftover_paths(folder):
    """Temporary folders and files of zoo's atomic writes under `folder`, by kind."""
    found = {"checkpoint_tmp": set(), "export_tmp": set(), "other_tmp": set()}  # other: files of atomic_path
    for path in folder.rglob("*"):
        name = path.name
        if name.startswith((".checkpoint.tmp-", ".epoch-")) or name.endswith(".old"):  # a snapshot's
            found["checkpoint_tmp"].add(path)
        elif name.startswith(".export.tmp-"):
            found["export_tmp"].add(path)
        elif name.startswith(".") and ".tmp-" in name:  # a sample grid, history.csv, ...
            found["other_tmp"].add(path)
    return found


def _leftovers(folder):
    return {kind: len(paths) for kind, paths in _leftover_paths(folder).items()}


def _export_complete(version):
    needed = ["saved_model.pb", "variables/variables.index", "assets.extra/zoo.json",
              "assets.extra/tf_serving_warmup_requests"]
    return all((version / part).exists() for part in needed)


def _states_equal(a, b):
    if len(a["variables"]) != len(b["variables"]) or len(a["optimizers"]) != len(b["optimizers"]):
        return False
    return all(np.array_equal(np.array(x), np.array(y)) for group in ("variables", "optimizers")
               for x, y in zip(a[group], b[group]))


def _snapshots(folder):
    """The whole snapshot folders of a run's checkpoint folder, newest first."""
    if not folder.exists():
        return []
    return sorted((p for p in folder.iterdir() if p.name.startswith("epoch-") and p.name.replace("-", "").isalnum()
                   and (p / "progress.json").exists()), key=lambda p: p.name, reverse=True)


def _newest_progress(folder):
    found = _snapshots(folder)
    return json.loads((found[0] / "progress.json").read_text()) if found else None


def reference(args, work):
    """The worker script, and the state and duration of an uninterrupted run."""
    script = work / "worker.py"
    script.write_text(WORKER)
    folder = work / "reference"
    folder.mkdir()
    process = _start_worker(script, folder, args.epochs, args.batches)
    ready = _wait_ready(process, folder)
    process.communicate(timeout=3600)
    duration = time.perf_counter() - ready
    if process.returncode != 0:
        raise RuntimeError(f"the uninterrupted run failed: {_log(folder)}")
    return script, json.loads((folder / "state.json").read_text()), duration


def _corrupt(snapshot, kind):
    """Damages a snapshot folder as a disk error or a copy cut short would."""
    state = snapshot / "state.npz"
    if kind == "truncated_state":
        os.truncate(state, state.stat().st_size // 2)
    elif kind == "flipped_byte":  # same size: only the checksum sees it
        with open(state, "r+b") as f:
            f.seek(state.stat().st_size // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
    elif kind == "truncated_progress":
        os.truncate(snapshot / "progress.json", 20)
    elif kind == "missing_config":
        os.remove(snapshot / "config.json")
    else:
        raise ValueError(kind)


CORRUPTIONS = ("truncated_state", "flipped_byte", "truncated_progress", "missing_config")


def corrupted(args, work, script, expected):
    """Kill a run once it has 2 snapshots, damage the newest, resume: it must fall back and end as the reference."""
    results = []
    for index in range(args.corrupt):
        kind = CORRUPTIONS[index % len(CORRUPTIONS)]
        faulty = work / f"corrupt-{index}"
        faulty.mkdir()
        process = _start_worker(script, faulty, args.epochs, args.batches)
        _wait_ready(process, faulty)
        while len(_snapshots(faulty / "run" / "checkpoint")) < 2:
            if process.poll() is not None:
                raise RuntimeError(f"the run ended before it had snapshots to damage: {_log(faulty)}")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        snapshots = _snapshots(faulty / "run" / "checkpoint")
        newest, previous = snapshots[0], snapshots[1]
        _corrupt(newest, kind)
        process = _start_worker(script, faulty, args.epochs, args.batches)
        _wait_ready(process, faulty)
        process.wait(timeout=3600)
        log = _log(faulty)
        if process.returncode != 0:
            raise RuntimeError(f"the resume from a damaged snapshot failed: {log}")
        final = json.loads((faulty / "state.json").read_text())
        set_aside = [p.name for p in newest.parent.iterdir() if p.name.startswith(newest.name + ".damaged-")]
        results.append({
            "damage": kind, "damaged": newest.name, "fell_back_to": previous.name,
            "said_so": f"skipping the damaged checkpoint {newest}" in log and f"reading {previous}" in log,
            "set_aside": bool(set_aside), "survived": bool(_states_equal(expected, final)),
        })
        print(f"damaged {newest.name} ({kind}): fell back to {previous.name}, said so {results[-1]['said_so']}, "
              f"survived {results[-1]['survived']}", flush=True)
        shutil.rmtree(faulty, ignore_errors=True)
    return {"tried": len(results), "survived": sum(r["survived"] and r["said_so"] and r["set_aside"] for r in results),
            "kinds": sorted({r["damage"] for r in results}), "runs": results}


def kills(args, work, script, expected, duration):
    rng = random.Random(args.seed)
    cycles, tried, starts = [], 0, 0
    while tried < args.kills:
        faulty = work / f"faulty-{len(cycles)}"
        faulty.mkdir()
        records, previous = [], _leftover_paths(faulty)
        while True:  # one run, killed at random moments until it finishes
            process = _start_worker(script, faulty, args.epochs, args.batches)
            starts += 1
            ready = _wait_ready(process, faulty)
            # A moment of an uninterrupted run's work; a resumed run has less left, so
            # it sometimes finishes first, which ends this run. Past --kills, no more kills.
            delay = rng.uniform(0.0, duration) if tried < args.kills else None
            try:
                process.wait(timeout=delay)
                break  # finished first: the run is complete
            except subprocess.TimeoutExpired:
                pass
            process.send_signal(signal.SIGKILL)
            process.wait()
            tried += 1
            step = _newest_progress(faulty / "run" / "checkpoint")
            now = _leftover_paths(faulty)
            # This kill's own: what is there now and was not after the last kill.
            records.append({"after_s": round(time.perf_counter() - ready, 2),
                            "checkpoint": step and {"epoch": step["epoch"], "step": step["step"]},
                            "left": {kind: len(now[kind] - previous[kind]) for kind in now},
                            "versions": _versions(faulty / "models")})
            previous = now
            print(f"kill {tried} (run {len(cycles) + 1}) after {records[-1]['after_s']:.1f} s: checkpoint "
                  f"{records[-1]['checkpoint']}, left {records[-1]['left']}", flush=True)
        if process.returncode != 0:
            raise RuntimeError(f"a resumed run failed: {_log(faulty)}")
        final = json.loads((faulty / "state.json").read_text())
        folder = faulty / "models" / "faulty"
        numbered = [v for v in folder.iterdir() if v.name.isdigit()] if folder.exists() else []
        cycles.append({
            "kills": len(records),
            "survived": bool(_states_equal(expected, final)),
            "numbered_exports": sorted(v.name for v in numbered),
            "exports_complete": bool(numbered) and all(_export_complete(v) for v in numbered),
            "left_at_the_end": _leftovers(faulty),
            "records": records,
        })
        print(f"run {len(cycles)}: {len(records)} kills, survived {cycles[-1]['survived']}", flush=True)
        shutil.rmtree(faulty, ignore_errors=True)
    targeted = []
    for where, count in (("checkpoint", args.batches * args.epochs), ("grid", args.epochs), ("export", 1)):
        for repeat in range(args.targeted):
            faulty = work / f"targeted-{where}-{repeat}"
            faulty.mkdir()
            nth = rng.randint(1, count)
            process = _start_worker(script, faulty, args.epochs, args.batches, fault=f"{where}:{nth}")
            _wait_ready(process, faulty)
            process.wait(timeout=3600)
            left = _leftovers(faulty)
            process = _start_worker(script, faulty, args.epochs, args.batches)
            _wait_ready(process, faulty)
            process.wait(timeout=3600)
            if process.returncode != 0:
                raise RuntimeError(f"the resume after a kill in a {where} write failed: {_log(faulty)}")
            final = json.loads((faulty / "state.json").read_text())
            folder = faulty / "models" / "faulty"
            numbered = [v for v in folder.iterdir() if v.name.isdigit()]
            targeted.append({
                "in": where, "nth_write": nth, "exit": -9 if process.returncode == 0 else process.returncode,
                "left": left, "survived": bool(_states_equal(expected, final)),
                "exports_complete": bool(numbered) and all(_export_complete(v) for v in numbered),
                "left_at_the_end": _leftovers(faulty),
            })
            print(f"targeted kill in the {where} write {nth}: left {left}, survived {targeted[-1]['survived']}, "
                  f"left at the end {targeted[-1]['left_at_the_end']}", flush=True)
            shutil.rmtree(faulty, ignore_errors=True)
    killed_runs = [c for c in cycles if c["kills"]]
    every = [r for c in cycles for r in c["records"]]
    return {
        "uninterrupted_seconds": round(duration, 1),
        "kills_tried": tried,
        "kills_survived": sum(c["kills"] for c in killed_runs if c["survived"] and c["exports_complete"]),
        "runs": len(cycles),
        "starts": starts,
        "survived": all(c["survived"] and c["exports_complete"] for c in killed_runs),
        "kills_during_checkpoint_write": sum(1 for r in every if r["left"]["checkpoint_tmp"]),
        "kills_during_export": sum(1 for r in every if r["left"]["export_tmp"]),
        "kills_during_other_writes": sum(1 for r in every if r["left"]["other_tmp"]),
        "targeted_survived": sum(t["survived"] and t["exports_complete"] and not any(t["left_at_the_end"].values())
                                 for t in targeted),
        "targeted": targeted,
        "cycles": cycles,
    }


def _versions(folder):
    path = folder / "faulty"
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def writers(args, work):
    run_dir = work / "busy"
    train = [sys.executable, "-m", "zoo.cli", "train", "dcgan", "--dataset", "digits", "--image-size", "16",
             "--base-filters", "4", "--batch-size", "16", "--epochs", "1000", "--run-dir", str(run_dir), "--quiet"]
    with open(work / "holder.log", "w") as log:
        holder = subprocess.Popen(train, stdout=subprocess.DEVNULL, stderr=log, env=_env("tensorflow"))
    deadline = time.time() + 300
    while not (run_dir / "checkpoint").exists():  # training has begun
        if holder.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"the holder did not start training: {(work / 'holder.log').read_text()[-2000:]}")
        time.sleep(1)
    refused, outcomes = 0, []
    try:
        for start in range(0, args.writers, 2):
            batch = [subprocess.Popen(train, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=_env("tensorflow")) for _ in range(min(2, args.writers - start))]
            for process in batch:
                _, err = process.communicate(timeout=600)
                ok = process.returncode == 2 and f"is in use by pid {holder.pid}" in err
                refused += ok
                outcomes.append({"exit": process.returncode, "message": err.strip().splitlines()[-1][:300]})
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    return {"writers_tried": args.writers, "refused": refused, "holder_still_training": True,
            "outcomes": outcomes[:3]}


def exports(args, work):
    setup = textwrap.dedent(
        """
        import sys, keras
        from zoo import checkpoint, models, nets
        keras.utils.set_random_seed(0)
        gan = models.GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4),
                         nets.dcgan_discriminator((16, 16, 1), base_filters=4))
        gan.compile()
        checkpoint.save(gan, sys.argv[1])
        """
    )
    subprocess.run([sys.executable, "-c", setup, str(work / "ckpt")], check=True, env=_env("tensorflow"),
                   capture_output=True)
    command = [sys.executable, "-m", "zoo.cli", "export", "--checkpoint", str(work / "ckpt"), "--name", "race",
               "--base-path", str(work / "models")]
    began = time.perf_counter()
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=_env("tensorflow")) for _ in range(args.exports)]
    codes = []
    for process in processes:
        process.communicate(timeout=1200)
        codes.append(process.returncode)
    folder = work / "models" / "race"
    numbered = sorted((v for v in folder.iterdir() if v.name.isdigit()), key=lambda v: int(v.name))
    return {"exports_tried": args.exports, "exit_codes": codes, "versions": [v.name for v in numbered],
            "distinct_complete_versions": sum(_export_complete(v) for v in numbered),
            "hidden_left": sorted(v.name for v in folder.iterdir() if v.name.startswith(".")),
            "seconds": round(time.perf_counter() - began, 1)}


BAD_INPUTS = textwrap.dedent(
    """
    import importlib.util, json, sys, traceback, warnings
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("bad_image_kinds", sys.argv[1])
    kinds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kinds)
    from zoo.data import image_folder

    work, results = Path(sys.argv[2]), []
    cases = [(kind, [kind]) for kind in kinds.READABLE + kinds.UNREADABLE]
    cases += [("vanishing_file", []), ("every_kind_at_once", list(kinds.READABLE + kinds.UNREADABLE))]
    for name, bad in cases:
        folder = work / name
        folder.mkdir()
        written = kinds.make_bad_images(folder, kinds=list(kinds.GOOD) + bad)
        expected = len(kinds.GOOD) + sum(kind in kinds.READABLE for kind in bad)
        record = {"case": name, "expected_images": expected}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ds = image_folder(folder, batch_size=1, shuffle=False)
            if name == "vanishing_file":
                kinds.make_vanish(written[kinds.GOOD[0]])  # gone after image_folder returned
            counts = [sum(int(batch.shape[0]) for batch in ds) for _ in range(2)]  # two epochs
            skipped = [str(w.message) for w in caught if "unreadable" in str(w.message)]
            record.update(images_per_epoch=counts, crashed=False,
                          shape_kept=counts == [expected, expected],
                          skipped_said=(not any(k in kinds.UNREADABLE for k in bad)) or bool(skipped),
                          message=skipped[0][:300] if skipped else None)
        except Exception as error:
            record.update(crashed=True, error=f"{type(error).__name__}: {str(error)[:300]}",
                          trace=traceback.format_exc()[-1500:])
        results.append(record)
        print(json.dumps(record), flush=True)
    """
)


def bad_inputs(args, work):
    """Every kind of bad image file, alone and all at once, and a file that vanishes: 0 crashes."""
    folder = work / "bad_inputs"
    folder.mkdir()
    script = work / "bad_inputs.py"
    script.write_text(BAD_INPUTS)
    kinds = ROOT / "tests" / "data" / "bad_image_kinds.py"
    process = subprocess.run([sys.executable, str(script), str(kinds), str(folder)], capture_output=True, text=True,
                             env=_env("tensorflow"), timeout=1800)
    cases = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    # And through the command line: zoo train on the folder of every kind.
    train = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "train", "dcgan", "--dataset", str(folder / "every_kind_at_once"),
         "--base-filters", "4", "--batch-size", "3", "--epochs", "1", "--run-dir", str(work / "bad_inputs_run"),
         "--quiet"], capture_output=True, text=True, env=_env("tensorflow"), timeout=1800)
    kinds_tried = [case["case"] for case in cases if case["case"] != "every_kind_at_once"]
    return {
        "kinds_tried": len(kinds_tried), "kinds": kinds_tried, "process_exit": process.returncode,
        "crashes": sum(case["crashed"] for case in cases) + (process.returncode != 0),
        "shape_kept": sum(case.get("shape_kept", False) for case in cases), "cases": cases,
        "zoo_train_exit": train.returncode,
        "zoo_train_said": next((line.strip()[:400] for line in train.stderr.splitlines() if "unreadable" in line),
                               None),
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=4, help="epochs of the killed run")
    parser.add_argument("--batches", type=int, default=15, help="batches of 32 per epoch, each followed by a checkpoint")
    parser.add_argument("--targeted", type=int, default=3,
                        help="kills inside a checkpoint, a sample grid and an export write, each")
    parser.add_argument("--corrupt", type=int, default=4,
                        help="runs whose newest snapshot is damaged before the resume (each kind in turn)")
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--exports", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 kills, 2 writers, 3 exports, 1 epoch")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.kills, args.writers, args.exports, args.epochs, args.batches, args.targeted = 2, 2, 3, 1, 3, 1
        args.corrupt = 2
    return args


def main(argv=None):
    import _shared

    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="zoo-faults-"))
    try:
        began = time.perf_counter()
        script, expected, duration = reference(args, work)
        results = {"kills": kills(args, work, script, expected, duration)}
        print(f"kills: survived {results['kills']['survived']} after {results['kills']['kills_tried']} kills",
              flush=True)
        results["corrupted_snapshots"] = corrupted(args, work, script, expected)
        print(f"corrupted newest snapshots: {results['corrupted_snapshots']['survived']}/"
              f"{results['corrupted_snapshots']['tried']} fell back and ended with the expected weights", flush=True)
        results["bad_inputs"] = bad_inputs(args, work)
        print(f"bad inputs: {results['bad_inputs']['kinds_tried']} kinds, {results['bad_inputs']['crashes']} crashes, "
              f"zoo train exit {results['bad_inputs']['zoo_train_exit']}", flush=True)
        results["writers"] = writers(args, work)
        print(f"writers: {results['writers']['refused']}/{args.writers} refused", flush=True)
        results["exports"] = exports(args, work)
        print(f"exports: {results['exports']['distinct_complete_versions']}/{args.exports} distinct complete "
              "versions", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "benchmark": BENCHMARK,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/faults.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "machine": _shared.machine_info(),
        "settings": {k: getattr(args, k) for k in ("kills", "targeted", "corrupt", "epochs", "batches", "writers",
                                                  "exports", "seed", "quick")},
        "seconds": round(time.perf_counter() - began, 1),
        **results,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print(f"results appended to {args.output}", flush=True)
    return record


if __name__ == "__main__":
    main()
