/* The study's step in C, for the ctypes row: anew's interior from aold's, (n+2) x (n+2) halo'd
 * arrays, row-major, in the reference's order of operations. Built with -O3 -ffp-contract=off. */
void step(const double* aold, double* anew, long n) {
  const long w = n + 2;
  for (long j = 1; j <= n; ++j)
    for (long i = 1; i <= n; ++i)
      anew[j * w + i] = 0.5 * (aold[j * w + i] + 0.25 * (aold[j * w + i - 1] + aold[j * w + i + 1] +
                                                         aold[(j - 1) * w + i] + aold[(j + 1) * w + i]));
}
