#include "parallel/hdf5_mpio.hpp"

#if defined(CALOR_HAVE_MPI) && defined(H5_HAVE_PARALLEL)
#include "parallel/mpi_comm.hpp"
#endif

namespace calor {

bool use_mpi_io(hid_t fapl, const Comm& comm) {
#if defined(CALOR_HAVE_MPI) && defined(H5_HAVE_PARALLEL)
  if (comm.size() > 1) return H5Pset_fapl_mpio(fapl, mpi_comm(comm), MPI_INFO_NULL) >= 0;
#else
  (void)fapl;
  (void)comm;
#endif
  return false;
}

void use_collective_transfer(hid_t dxpl, const Comm& comm) {
#if defined(CALOR_HAVE_MPI) && defined(H5_HAVE_PARALLEL)
  if (comm.size() > 1) H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
#else
  (void)dxpl;
  (void)comm;
#endif
}

}  // namespace calor
