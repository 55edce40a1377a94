#!/usr/bin/env python3
"""The C interface from Python's ctypes, as the SHARCNET tutorial calls compiled code (issue 21):
the case study at N = 480, 50 steps, its heat and max, and the field read through the pointer
calor returns. Only the standard library.   Usage: ctypes_case_study.py LIBCALOR_C"""
import ctypes
import sys


class Stats(ctypes.Structure):
    _fields_ = [("heat", ctypes.c_double), ("min", ctypes.c_double), ("max", ctypes.c_double),
                ("l2", ctypes.c_double), ("step", ctypes.c_int64), ("time", ctypes.c_double)]


lib = ctypes.CDLL(sys.argv[1])
lib.calor_last_error.restype = ctypes.c_char_p
lib.calor_version.restype = ctypes.c_char_p
lib.calor_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.calor_run.argtypes = [ctypes.c_void_p]
lib.calor_get_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(Stats)]
lib.calor_field.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_double)),
                            ctypes.POINTER(ctypes.c_int), ctypes.c_int64 * 3, ctypes.c_int64 * 3]
lib.calor_destroy.argtypes = [ctypes.c_void_p]


def check(status):
    if status != 0:
        raise RuntimeError(f"calor status {status}: {lib.calor_last_error().decode()}")


sim = ctypes.c_void_p()
check(lib.calor_create(b'preset = "stencil"\nn = 480\nsteps = 50\n', ctypes.byref(sim)))
check(lib.calor_run(sim))
st = Stats()
check(lib.calor_get_stats(sim, ctypes.byref(st)))
data, ndim = ctypes.POINTER(ctypes.c_double)(), ctypes.c_int()
shape, strides = (ctypes.c_int64 * 3)(), (ctypes.c_int64 * 3)()
check(lib.calor_field(sim, ctypes.byref(data), ctypes.byref(ndim), shape, strides))
largest = max(data[j * strides[0] + i * strides[1]] for j in range(shape[0]) for i in range(shape[1]))
assert largest == st.max, (largest, st.max)
bad = ctypes.c_void_p()
assert lib.calor_create(b"n = -5\n", ctypes.byref(bad)) == 2 and not bad.value
assert b"key 'n'" in lib.calor_last_error()
lib.calor_destroy(sim)
print(f"heat {st.heat:.4f} max {st.max:.17g} (calor {lib.calor_version().decode()} via ctypes)")
