#!/usr/bin/env python3
"""Checks the step tests by breaking the code: each mutation must make them fail.

Every `tests/steps/test_*.py` lists, in a module-level `MUTATIONS`, one-line
changes that a reader of the paper would call a bug:

    MUTATIONS = [
        # (file, text to replace (exactly once in the file), replacement, what it breaks)
        ("zoo/models/gan.py", "real_target=1.0 - self.label_smoothing", "real_target=1.0",
         "label smoothing ignored by the step"),
    ]

For each mutation this script copies `zoo/`, `tests/`, `recipes/` and `pyproject.toml` into a
scratch folder, applies the change there, runs that test file with pytest, and
counts the mutation as killed when pytest fails. The working tree is never
touched.

    .venv/bin/python tests/steps/mutate.py                    # every file, 2 at a time
    .venv/bin/python tests/steps/mutate.py test_gan_step.py   # one file
    .venv/bin/python tests/steps/mutate.py --list             # show the mutations only

It ends with `N killed / M tried` and exits 1 when a mutation survived.
`tests/steps/test_mutations.py` (default suite) checks that every listed
mutation still applies to the current source, so the list cannot rot.
"""

import argparse
import ast
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def mutations_of(test_file):
    """The `MUTATIONS` list of a test file, read without importing it."""
    tree = ast.parse(Path(test_file).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MUTATIONS" for t in node.targets):
            found = ast.literal_eval(node.value)
            for item in found:
                if not (isinstance(item, tuple) and len(item) == 4 and all(isinstance(s, str) for s in item)):
                    raise ValueError(f"{test_file}: a mutation must be (file, old, new, why), got {item!r}")
            return found
    return []


def test_files(names=()):
    files = sorted(HERE.glob("test_*.py"))
    if names:
        wanted = {Path(n).name for n in names}
        unknown = wanted - {f.name for f in files}
        if unknown:
            raise SystemExit(f"no such step test file: {', '.join(sorted(unknown))}")
        files = [f for f in files if f.name in wanted]
    return [f for f in files if mutations_of(f)]


def check_applies(root, path, old):
    """The mutated file's text; raises ValueError unless `old` occurs exactly once."""
    text = (Path(root) / path).read_text()
    count = text.count(old)
    if count != 1:
        raise ValueError(f"{path}: {old!r} occurs {count} times (expected exactly once)")
    return text


def run_one(test_file, mutation, python, timeout):
    path, old, new, why = mutation
    with tempfile.TemporaryDirectory(prefix="zoo-mutant-") as scratch:
        for name in ("zoo", "tests", "recipes"):
            shutil.copytree(ROOT / name, Path(scratch) / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", scratch)
        text = check_applies(scratch, path, old)
        (Path(scratch) / path).write_text(text.replace(old, new))
        env = {**os.environ, "PYTHONPATH": scratch, "TF_CPP_MIN_LOG_LEVEL": "3"}
        # The scratch copy must shadow the installed zoo.
        command = [
            python, "-c",
            "import sys, zoo, pytest; assert zoo.__file__.startswith(sys.argv[1]), zoo.__file__; "
            "sys.exit(pytest.main(sys.argv[2:]))",
            scratch, "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
            str(Path("tests") / "steps" / test_file.name),
        ]
        start = time.time()
        try:
            result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout)
            code, output = result.returncode, result.stdout + result.stderr
        except subprocess.TimeoutExpired:
            code, output = "timeout", ""
        if code not in (0, 1, "timeout"):
            raise RuntimeError(f"pytest could not run the mutant ({why}), exit {code}:\n{output[-3000:]}")
        killed = code != 0
        last = [line for line in output.strip().splitlines() if line.strip()][-1:] or [""]
        return killed, time.time() - start, last[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="step test files (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per mutant (default 600)")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    work = [(f, m) for f in test_files(args.files) for m in mutations_of(f)]
    if args.list:
        for f, (path, old, new, why) in work:
            print(f"{f.name}: {path}: {why}\n    - {old}\n    + {new}")
        print(f"{len(work)} mutations")
        return 0
    for f, (path, old, _, _) in work:
        check_applies(ROOT, path, old)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_one, f, m, args.python, args.timeout): (f, m) for f, m in work}
        for future in concurrent.futures.as_completed(futures):
            f, m = futures[future]
            killed, seconds, last = future.result()
            results.append((f.name, m, killed))
            print(f"{'killed  ' if killed else 'SURVIVED'} {f.name}: {m[3]} ({seconds:.0f} s; {last})", flush=True)
    killed = sum(k for _, _, k in results)
    by_file = {}
    for name, _, k in results:
        by_file.setdefault(name, [0, 0])
        by_file[name][0] += k
        by_file[name][1] += 1
    for name, (k, n) in sorted(by_file.items()):
        print(f"{name}: {k} killed / {n} tried")
    print(f"{killed} killed / {len(results)} tried")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
