"""The cuda backend from Python (issue 22). Without a GPU: the refusal names the reason. With
one (skipped otherwise): the field is the serial backend's bits, sim.field is a read-only host
copy, and DLPack hands the device memory over with the CUDA device type."""

from __future__ import annotations

import numpy as np
import pytest

import calor

PROBLEM = dict(preset="stencil", n=96, steps=20)


def cuda_simulation():
    """A cuda Simulation, or the reason there is none here."""
    try:
        return calor.Simulation(calor.Problem(**PROBLEM), backend="cuda"), ""
    except calor.Error as e:
        return None, str(e)


def test_without_a_device_the_refusal_says_why():
    sim, why = cuda_simulation()
    if sim is not None:
        pytest.skip("a CUDA device is present")
    if "cuda" in calor.backends():
        assert "backend 'cuda' cannot run here" in why and "CPU backend" in why
    else:
        assert "backend 'cuda' is not in this calor" in why


def test_on_a_device_the_bits_and_dlpack():
    sim, why = cuda_simulation()
    if sim is None:
        pytest.skip(f"no GPU: {why}")
    cupy = pytest.importorskip("cupy")
    sim.run(progress=False)
    reference = calor.Simulation(calor.Problem(**PROBLEM), backend="serial")
    reference.run(progress=False)
    assert np.array_equal(sim.field, reference.field)  # bit for bit (no NaN here)
    assert not sim.field.flags.writeable  # a host copy: writes would not reach the device
    assert sim.__dlpack_device__()[0] == 2  # kDLCUDA
    on_device = cupy.from_dlpack(sim)
    assert np.array_equal(cupy.asnumpy(on_device), reference.field)
