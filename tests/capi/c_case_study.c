/* The C interface from C (issue 21): the case study at N = 480, 50 steps, its heat and max as
 * `calor run` prints them, the field seen without a copy, and errors as statuses with messages.
 * Usage: c_case_study SCRATCH_DIR */
#include <stdio.h>
#include <string.h>

#include "calor/calor.h"

static int failures = 0;

static void expect(int ok, const char* what) {
  if (!ok) {
    printf("FAIL: %s (last error: %s)\n", what, calor_last_error());
    ++failures;
  }
}

int main(int argc, char** argv) {
  calor_sim* sim = NULL;
  expect(calor_create("preset = \"stencil\"\nn = 480\nsteps = 50\n", &sim) == CALOR_OK, "create");
  expect(calor_run(sim) == CALOR_OK, "run");
  calor_stats st;
  expect(calor_get_stats(sim, &st) == CALOR_OK, "stats");
  printf("heat %.4f max %.17g step %lld\n", st.heat, st.max, (long long)st.step);

  /* The field without a copy: its sum is the heat, its largest value the max. */
  const double* u = NULL;
  int ndim = 0;
  int64_t shape[3], strides[3];
  expect(calor_field(sim, &u, &ndim, shape, strides) == CALOR_OK, "field");
  expect(ndim == 2 && shape[0] == 480 && shape[1] == 480 && strides[1] == 1, "field shape");
  double sum = 0, max = 0;
  for (int64_t j = 0; j < shape[0]; ++j)
    for (int64_t i = 0; i < shape[1]; ++i) {
      const double v = u[j * strides[0] + i * strides[1]];
      sum += v;
      max = v > max ? v : max;
    }
  expect(max == st.max, "the field's max is the statistics' max");
  expect(sum > 149.99 && sum < 150.01, "the field's sum is the heat");

  /* More steps, and a checkpoint. */
  expect(calor_step(sim, 10) == CALOR_OK, "step");
  expect(calor_get_stats(sim, &st) == CALOR_OK && st.step == 60, "step count after calor_step");
  if (argc > 1) {
    char path[4096];
    snprintf(path, sizeof path, "%s/c_api.ckpt.h5", argv[1]);
    expect(calor_write_checkpoint(sim, path) == CALOR_OK, "checkpoint");
  }
  calor_destroy(sim);

  /* Errors: a status, a message naming the problem, no handle; never an exception. */
  sim = NULL;
  expect(calor_create("n = -5\n", &sim) == CALOR_BAD_INPUT && sim == NULL, "bad n refused");
  expect(strstr(calor_last_error(), "key 'n'") != NULL, "the message names the key");
  expect(calor_create("steps = \n", &sim) == CALOR_BAD_INPUT, "malformed TOML refused");
  expect(calor_create(NULL, &sim) == CALOR_BAD_INPUT, "NULL text refused");
  expect(calor_run(NULL) == CALOR_BAD_INPUT, "NULL handle refused");
  expect(
      calor_create("preset = \"stencil\"\nn = 32\nsteps = 3000\ndt = 0.3\nallow_unstable = true\n",
                   &sim) == CALOR_OK,
      "an unstable run is created");
  expect(calor_run(sim) == CALOR_FAILED, "a blow-up is a failed run");
  expect(strstr(calor_last_error(), "blew up") != NULL, "the message says it blew up");
  calor_destroy(sim);
  calor_destroy(NULL);
  printf("calor %s: %s\n", calor_version(), failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
