"""A test-only registry file for compare.py --extra-registry: EXTRA is added to the registry."""

from approaches import Approach

EXTRA = [
    Approach("wrong-fake", "fake_approaches", "test only: NumPy, 1e-9 too much per step",
             run_function="run_wrong", prepare_function="prepare_wrong"),
    Approach("nearly-right", "fake_approaches", "test only: NumPy, 1e-15 off per step",
             run_function="run_nearly", prepare_function="prepare_nearly"),
]
