"""The mutation lists of the step tests stay valid as the code changes.

`tests/steps/mutate.py` runs them (each must make its test file fail); here the
default suite only checks that every listed mutation still applies to the
current source exactly once, so a refactor that moves a line shows up as a
failing check here instead of a silently skipped mutation.
"""

import pytest

import mutate

FILES = mutate.test_files()


def test_every_step_test_file_lists_mutations():
    listed = {f.name for f in FILES}
    for path in sorted(mutate.HERE.glob("test_*_step.py")):
        assert path.name in listed, f"{path.name} has no MUTATIONS list"
        assert len(mutate.mutations_of(path)) >= 3, f"{path.name}: fewer than 3 mutations"


@pytest.mark.parametrize("test_file", FILES, ids=[f.name for f in FILES])
def test_mutations_apply_exactly_once(test_file):
    for path, old, new, why in mutate.mutations_of(test_file):
        assert old != new, why
        mutate.check_applies(mutate.ROOT, path, old)


def test_a_mutation_that_does_not_apply_is_named(tmp_path):
    (tmp_path / "f.py").write_text("x = 1\nx = 1\n")
    with pytest.raises(ValueError, match="occurs 2 times"):
        mutate.check_applies(tmp_path, "f.py", "x = 1")
