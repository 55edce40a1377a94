#pragma once
// HDF5's MPI-IO driver for a Comm: the parallel wing sets it up, so that the output wing never
// handles an MPI communicator itself.

#include <hdf5.h>

#include "calor/comm.hpp"

namespace calor {

/// Makes file access property list `fapl` open files collectively over `comm` (MPI-IO) when it
/// has several ranks and HDF5 is parallel; returns whether it did.
bool use_mpi_io(hid_t fapl, const Comm& comm);
/// Makes transfer property list `dxpl` collective when files are opened with MPI-IO.
void use_collective_transfer(hid_t dxpl, const Comm& comm);

}  // namespace calor
