# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The stencil step on typed memoryviews. Built by cython_typed.py (-O3 -ffp-contract=off, no
-ffast-math): C adds a + b + c + d left to right and may not fuse or reassociate, so the result
is the reference's bit for bit."""


def step(const double[:, ::1] aold, double[:, ::1] anew):
    """anew's interior from aold's, both (n + 2, n + 2) C-ordered float64 with halo."""
    if aold.shape[0] != anew.shape[0] or aold.shape[1] != anew.shape[1]:
        raise ValueError(f"aold is {aold.shape[0]} x {aold.shape[1]}, "
                         f"anew {anew.shape[0]} x {anew.shape[1]}: they must match")
    cdef Py_ssize_t i, j
    with nogil:
        for j in range(1, aold.shape[0] - 1):
            for i in range(1, aold.shape[1] - 1):
                anew[j, i] = 0.5 * (aold[j, i] + 0.25 * (aold[j, i - 1] + aold[j, i + 1]
                                                         + aold[j - 1, i] + aold[j + 1, i]))
