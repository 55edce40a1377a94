/* calor's C interface: a small, stable ABI for C, Fortran (iso_c_binding), ctypes and Julia.
 *
 * A simulation is an opaque handle made from a TOML configuration (the same keys as `calor run`
 * and Python's calor.Problem). Every function returns a status; on failure calor_last_error()
 * says what went wrong, naming the setting, the value and the remedy. No C++ exception crosses
 * this interface.
 *
 *   calor_sim* sim = NULL;
 *   if (calor_create("preset = \"stencil\"\nn = 480\nsteps = 50\n", &sim) != CALOR_OK)
 *     fprintf(stderr, "%s\n", calor_last_error());
 *   calor_run(sim);
 *   calor_stats st;
 *   calor_get_stats(sim, &st);       // st.heat == 150
 *   calor_destroy(sim);
 */
#ifndef CALOR_CALOR_H
#define CALOR_CALOR_H

#include <stdint.h>

#if defined(__GNUC__)
#define CALOR_API __attribute__((visibility("default")))
#else
#define CALOR_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Statuses, the same numbers as `calor run`'s exit statuses. */
enum {
  CALOR_OK = 0,
  CALOR_FAILED = 1,    /* a run failed: the solution blew up, an output could not be written */
  CALOR_BAD_INPUT = 2, /* a setting, a file or an argument calor cannot use */
  CALOR_INTERNAL = 3   /* a bug in calor: please report it with the message */
};

typedef struct calor_sim calor_sim;

/* Heat (the plain sum over the interior), min, max and L2 norm of the field, and where the run
 * is. Over every process of the simulation's communicator (collective). */
typedef struct calor_stats {
  double heat, min, max, l2;
  int64_t step;
  double time;
} calor_stats;

/* "0.2.0" */
CALOR_API const char* calor_version(void);

/* The message of the last failure on this thread ("" if none): valid until the next call. */
CALOR_API const char* calor_last_error(void);

/* A simulation of the TOML configuration `toml`, on this process alone. */
CALOR_API int calor_create(const char* toml, calor_sim** out);

/* The same on the processes of an MPI communicator, given as its Fortran handle (MPI_Comm_c2f
 * in C, comm%MPI_VAL in Fortran, comm.py2f() in mpi4py). Collective. */
CALOR_API int calor_create_mpi(const char* toml, int64_t fortran_comm, calor_sim** out);

/* Takes the configuration's remaining steps (collective). */
CALOR_API int calor_run(calor_sim* sim);

/* Takes `steps` more steps (collective). */
CALOR_API int calor_step(calor_sim* sim, int64_t steps);

/* This process's block of the current field, in host memory, without a copy: `ndim` axes
 * (1 to 3), `shape` and `strides` (in elements, not bytes) slowest axis first (C and NumPy
 * order: z, y, x), the x axis contiguous. Valid until the next step; not for the spectral
 * method (CALOR_BAD_INPUT). */
CALOR_API int calor_field(calor_sim* sim, const double** data, int* ndim, int64_t shape[3],
                          int64_t strides[3]);

/* The statistics of the current field (collective). */
CALOR_API int calor_get_stats(calor_sim* sim, calor_stats* out);

/* Writes a checkpoint of the current state to `path` (temporary file, fsync, rename; the
 * previous one kept as path.prev). Collective. */
CALOR_API int calor_write_checkpoint(calor_sim* sim, const char* path);

/* Frees the simulation (NULL is allowed). */
CALOR_API void calor_destroy(calor_sim* sim);

#ifdef __cplusplus
}
#endif

#endif /* CALOR_CALOR_H */
