#pragma once
// The MPI communicator behind a Comm, for the files that must hand one to another library
// (HDF5's MPI-IO driver, FFTW-MPI). Only files built with CALOR_HAVE_MPI include this.

#include <mpi.h>

#include "calor/comm.hpp"

namespace calor {

/// The communicator of `c` (a world of one rank under mpiexec -n 1), or MPI_COMM_NULL when `c`
/// is a process that never joined MPI.
MPI_Comm mpi_comm(const Comm& c);

}  // namespace calor
