"""Every code block of README.md and docs/*.md runs as written (with ZOO_SMOKE=1, see zoo/smoke.py).

Each fenced block names its language. ``python`` blocks run in a fresh namespace, ``bash``
blocks line by line (a ``zoo`` command in this process, anything else as a subprocess), each in a
scratch folder where ``recipes/`` and ``dev.py`` of this checkout are linked in. ``text`` blocks
are not code. An HTML comment on the line before a block changes how it runs:

- ``<!-- example: tfds -->``: under ``tfds.testing.mock_data`` (random examples shaped as the
  tfds dataset's), for examples whose data needs a download;
- ``<!-- example: mnist-idx -->``: with ``mnist/`` holding the MNIST test split's IDX files, as
  the block's text asks of a reader (linked from ``../shared/data/mnist`` or ``$ZOO_SHARED_DATA/mnist``;
  where those are absent, 10,000 patterned 28x28 images with labels in the same format);
- ``<!-- example: skip REASON -->``: not run; REASON says why (a server, a download that
  ``mock_data`` cannot stand in for, the test suite itself), and the test checks one is given.

Blocks run in file order, one test per block, and each starts from a folder that holds only a copy
of the clone's shipped ``saved_models/``, as a fresh clone's root does: a block that uses what
another made is a block a reader cannot paste. `python -m pytest tests/test_docs_examples.py
-k cli` runs one file's blocks.
"""

import contextlib
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = {"python", "bash", "text"}
MARKER = re.compile(r"^<!--\s*example:\s*(?P<kind>skip|tfds|mnist-idx)\b\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^```(?P<language>\S*)\s*$")
# Shell commands that need no server and run here; anything else fails the test until marked.
COMMANDS = {"zoo", "python", "python3", "saved_model_cli"}


class Block:
    def __init__(self, path, line, language, code, marker):
        self.path, self.line, self.language, self.code = path, line, language, code
        self.kind, self.reason = (marker.group("kind"), marker.group("reason")) if marker else ("run", "")

    @property
    def name(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def __repr__(self):
        return self.name


def read_blocks(path):
    """The fenced blocks of a Markdown file, with their first line number and marker."""
    lines = path.read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            index += 1
        if index == len(lines):
            raise ValueError(f"{path}:{start + 1}: a code block that never closes")
        before = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        blocks.append(Block(path, start + 1, fence.group("language"), "\n".join(lines[start + 1 : index]) + "\n",
                            MARKER.match(before)))
        index += 1
    return blocks


BLOCKS = [block for path in DOCS for block in read_blocks(path)]
RUNNABLE = [block for block in BLOCKS if block.language in ("python", "bash")]


def test_every_block_names_its_language_and_every_skip_a_reason():
    assert len(RUNNABLE) >= 10, "the docs have lost their examples, or the parser has"
    for block in BLOCKS:
        assert block.language in LANGUAGES, f"{block.name}: a code block needs one of {LANGUAGES}, got {block.language!r}"
        if block.kind == "skip":
            assert len(block.reason) > 10, f"{block.name}: say why the example is skipped"
        if block.kind != "run":
            assert block.language != "text", f"{block.name}: a text block never runs; drop its marker"


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_marker_is_one_the_test_knows(path):
    """A mistyped marker (``mnist_idx``, ``skp``) would let its block run as a plain one, or not at all."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if re.match(r"^\s*<!--\s*example", line):
            assert MARKER.match(line.strip()), (f"{path.relative_to(ROOT)}:{number}: {line.strip()!r} is not "
                                                "<!-- example: skip REASON|tfds|mnist-idx -->")


def table_starts(path):
    """Line numbers of the first rows of the Markdown tables outside code blocks, with their separators."""
    lines, starts, inside = path.read_text().splitlines(), [], False
    for index, line in enumerate(lines):
        inside = inside != line.startswith("```")
        previous = lines[index - 1].lstrip() if index else ""
        if not inside and line.lstrip().startswith("|") and not previous.startswith("|"):
            separator = lines[index + 1] if index + 1 < len(lines) else ""
            starts.append((index + 1, bool(re.match(r"^\s*\|?\s*:?-{3,}", separator))))
    return starts


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_table_renders(path):
    """A table is header, separator, rows with no blank line: a blank line makes the rest raw pipe text."""
    for line, separated in table_starts(path):
        assert separated, f"{path.relative_to(ROOT)}:{line}: table rows without a header and |---| line above them"


def test_the_parser_reads_markers_and_languages(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent("""\
        # A page
        ```python
        x = 1
        ```
        <!-- example: skip needs a TF Serving server -->

        ```bash
        curl localhost:8501
        ```
        <!-- example: tfds -->
        ```python
        import zoo
        ```
        """))
    first, second, third = read_blocks(page)
    assert (first.line, first.language, first.code, first.kind) == (2, "python", "x = 1\n", "run")
    assert (second.kind, second.reason, second.code) == ("skip", "needs a TF Serving server", "curl localhost:8501\n")
    assert (third.kind, third.line) == ("tfds", 11)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """An empty folder with the checkout's recipes/ and dev.py linked in, ZOO_SMOKE set, as cwd."""
    for name in ("recipes", "dev.py"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_SMOKE", "1")
    monkeypatch.setenv("PATH", f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    yield tmp_path
    keras.config.set_dtype_policy("float32")  # an example may change the global policy
    keras.backend.clear_session()


def copy_shipped_exports(target):
    """The checkout's tracked saved_models/ (what a fresh clone holds), copied: examples write there."""
    listed = subprocess.run(["git", "ls-files", "saved_models"], cwd=ROOT, capture_output=True, text=True)
    names = listed.stdout.split() if listed.returncode == 0 and listed.stdout else [
        str(path.relative_to(ROOT)) for path in (ROOT / "saved_models").rglob("*") if path.is_file()]
    for name in names:
        (target.parent / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target.parent / name)


@contextlib.contextmanager
def mock_tfds(block):
    if block.kind != "tfds":
        yield
        return
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=640):  # enough for 2 batches of 5 x 64 critic batches
        yield


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.name)
def test_example_runs_as_written(block, scratch, request):
    if block.kind == "skip":
        if block.language == "python":
            compile(block.code, block.name, "exec")  # one that cannot run must still parse
        pytest.skip(f"{block.name}: {block.reason}")
    copy_shipped_exports(scratch / "saved_models")  # run, as the README says, where a clone's exports are
    if block.kind == "mnist-idx":
        (scratch / "mnist").symlink_to(request.getfixturevalue("mnist_idx_or_stand_in"))
    with mock_tfds(block):
        if block.language == "python":
            run_python(block)
        else:
            for line, command in shell_commands(block):
                start = time.perf_counter()
                run_shell(block, line, command, scratch)
                print(f"{time.perf_counter() - start:6.1f} s  {shlex.join(command)}")


def run_python(block):
    code = compile(block.code, block.name, "exec")
    exec(code, {"__name__": "__main__"})  # a fresh namespace: every name a block uses, it defines


def shell_commands(block):
    """`(line number, argv with leading VAR=value)` of each command, continuations joined, comments dropped."""
    commands, pending, first = [], "", None
    for offset, text in enumerate(block.code.splitlines()):
        if first is None:
            first = block.line + 1 + offset
        if text.rstrip().endswith("\\"):
            pending += text.rstrip()[:-1] + " "
            continue
        argv = shlex.split(pending + text, comments=True)
        pending = ""
        if argv:
            commands.append((first, argv))
        first = None
    return commands


def run_shell(block, line, argv, scratch):
    where = f"{block.path.relative_to(ROOT)}:{line}: {shlex.join(argv)}"
    argv = list(argv)
    environment = {}
    while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
        key, _, value = argv.pop(0).partition("=")
        environment[key] = value
    assert argv and argv[0] in COMMANDS, (
        f"{where}: {argv[0] if argv else 'nothing'} is not a command this test runs ({sorted(COMMANDS)}); "
        "put it in a block marked <!-- example: skip REASON -->"
    )
    if argv[0] == "zoo" and not environment:
        from zoo import cli

        try:
            status = cli.main(argv[1:])
        except SystemExit as stop:  # argparse's --help
            status = stop.code
        assert status in (0, None), f"{where}: exit status {status}"
        return
    assert block.kind != "tfds", f"{where}: tfds' mock data reaches only this process; run zoo commands here"
    executable = {"python": sys.executable, "python3": sys.executable}.get(argv[0])
    if argv[0] in ("zoo", "saved_model_cli"):
        executable = str(pathlib.Path(sys.executable).parent / argv[0])
    result = subprocess.run(
        [executable, *argv[1:]], cwd=scratch, env={**os.environ, **environment}, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{where}: exit status {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
