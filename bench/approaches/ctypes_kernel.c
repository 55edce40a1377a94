/* The study's step in C, for the ctypes row: anew's interior from aold's, (ny+2) x (nx+2) halo'd
 * arrays (a whole grid, or an MPI rank's block), row-major, in the reference's order of
 * operations. Built with -O3 -ffp-contract=off. */
void step(const double* aold, double* anew, long ny, long nx) {
  const long w = nx + 2;
  for (long j = 1; j <= ny; ++j)
    for (long i = 1; i <= nx; ++i)
      anew[j * w + i] = 0.5 * (aold[j * w + i] + 0.25 * (aold[j * w + i - 1] + aold[j * w + i + 1] +
                                                         aold[(j - 1) * w + i] + aold[(j + 1) * w + i]));
}
