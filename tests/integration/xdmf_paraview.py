# ParaView opens calor's XDMF: every snapshot is there with its time, on the right grid, and the
# values equal calor's own final field (--save-npy) exactly.
# Usage: pvbatch xdmf_paraview.py RUN.xmf FINAL.npy NX NY H STEPS_EXPECTED
import sys

import numpy as np
from paraview.simple import XDMFReader, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy

xmf, npy, nx, ny, h, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
reader = XDMFReader(FileNames=[xmf])
reader.UpdatePipelineInformation()
times = list(reader.TimestepValues)
assert len(times) == count, f"{len(times)} snapshots, expected {count}"
reader.UpdatePipeline(times[-1])
data = servermanager.Fetch(reader)
assert data.GetNumberOfPoints() == nx * ny, data.GetNumberOfPoints()
assert tuple(data.GetDimensions()) == (nx, ny, 1), data.GetDimensions()
first = data.GetPoint(0)
assert abs(first[0] - h) < 1e-12 and abs(first[1] - h) < 1e-12, first
u = vtk_to_numpy(data.GetPointData().GetArray("u"))
expected = np.load(npy).ravel()
assert np.array_equal(u, expected), "values differ from calor's field"
print(f"PASS: ParaView read {len(times)} snapshots, {nx}x{ny}, last t={times[-1]}, values identical")
