"""zoo.device's CPU probe, read from a cpuinfo file."""

from zoo import device

CPUINFO = """processor\t: 0
model name\t: Example CPU @ 2.0GHz
flags\t\t: fpu sse2 avx2 avx512f {extra}

processor\t: 1
model name\t: Another CPU
flags\t\t: fpu
"""


def test_cpu_info_reads_the_first_cpu(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(extra="avx512_bf16"))
    name, flags = device.cpu_info(path)
    assert name == "Example CPU @ 2.0GHz" and {"avx2", "avx512_bf16"} <= flags and "amx_bf16" not in flags
    assert device.cpu_has_bf16(path)
    path.write_text(CPUINFO.format(extra="amx_tile"))
    assert not device.cpu_has_bf16(path)


def test_no_cpuinfo_is_an_unknown_cpu_without_bf16(tmp_path):
    assert device.cpu_info(tmp_path / "missing") == ("unknown", set())
    assert not device.cpu_has_bf16(tmp_path / "missing")


def test_prepare_sets_the_policy_and_the_seeds():
    import keras
    import numpy as np

    assert device.prepare("float32", seed=3) == "float32"
    first = keras.random.normal((3,)), np.random.rand()
    device.prepare("mixed_bfloat16", seed=3)
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    second = keras.random.normal((3,)), np.random.rand()
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1]
