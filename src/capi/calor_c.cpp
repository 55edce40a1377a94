// The C interface (include/calor/calor.h): each function catches every exception and turns it
// into a status and a message for calor_last_error().

#include "calor/calor.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/output.hpp"
#include "calor/run.hpp"
#include "calor/version.hpp"

struct calor_sim {
  std::unique_ptr<calor::Run> run;
};

namespace {

thread_local std::string last_error;

// Runs f and returns CALOR_OK, or on a calor::Error `on_error` (CALOR_BAD_INPUT while setting
// up, CALOR_FAILED while running), keeping the message; anything else is CALOR_INTERNAL.
template <class F>
int guarded(F&& f, int on_error = CALOR_BAD_INPUT) noexcept {
  try {
    last_error.clear();
    f();
    return CALOR_OK;
  } catch (const calor::Error& e) {
    last_error = e.what();
    return on_error;
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
    return CALOR_FAILED;
  } catch (const std::exception& e) {
    last_error = std::string("internal error (please report it): ") + e.what();
    return CALOR_INTERNAL;
  } catch (...) {
    last_error = "internal error (please report it): an unknown exception";
    return CALOR_INTERNAL;
  }
}

int bad_argument(const char* what) {
  last_error = std::string("calor C API: ") + what;
  return CALOR_BAD_INPUT;
}

int create(const char* toml, const calor::Comm& comm, calor_sim** out) {
  if (out == nullptr) return bad_argument("the output handle pointer is NULL");
  *out = nullptr;
  if (toml == nullptr) return bad_argument("the configuration text is NULL");
  return guarded([&] {
    auto sim = std::make_unique<calor_sim>();
    sim->run = calor::make_run(calor::load_config(toml, "the C API's configuration"), comm);
    *out = sim.release();
  });
}

}  // namespace

extern "C" {

const char* calor_version(void) {
  return calor::kVersion;
}

const char* calor_last_error(void) {
  return last_error.c_str();
}

int calor_create(const char* toml, calor_sim** out) {
  return create(toml, calor::Comm(), out);
}

int calor_create_mpi(const char* toml, int64_t fortran_comm, calor_sim** out) {
  if (out != nullptr) *out = nullptr;
  calor::Comm comm;
  const int status = guarded([&] { comm = calor::Comm::from_handle(fortran_comm); });
  return status != CALOR_OK ? status : create(toml, comm, out);
}

int calor_run(calor_sim* sim) {
  if (sim == nullptr) return bad_argument("calor_run: the simulation is NULL");
  return guarded([&] { (void)sim->run->run(); }, CALOR_FAILED);
}

int calor_step(calor_sim* sim, int64_t steps) {
  if (sim == nullptr) return bad_argument("calor_step: the simulation is NULL");
  if (steps < 0 || steps > INT64_MAX - sim->run->step())
    return bad_argument(
        "calor_step: steps must be 0 or more, and the step count must fit in "
        "64 bits");
  return guarded([&] { (void)sim->run->advance(steps); }, CALOR_FAILED);
}

int calor_field(calor_sim* sim, const double** data, int* ndim, int64_t shape[3],
                int64_t strides[3]) {
  if (sim == nullptr || data == nullptr || ndim == nullptr || shape == nullptr ||
      strides == nullptr)
    return bad_argument("calor_field: a NULL argument");
  return guarded([&] {
    if (sim->run->method() != "stencil")
      throw calor::Error(
          "calor_field: the spectral method holds no field in memory between "
          "steps; use the stencil method, or write a checkpoint");
    const calor::State s = sim->run->state();
    const int dim = s.problem->grid.dim;
    const calor::index_t stride[3] = {1, s.stride_y, s.stride_z};
    *data = s.cells;
    *ndim = dim;
    for (int d = 0; d < dim; ++d) {  // slowest axis first
      shape[d] = s.box.size(dim - 1 - d);
      strides[d] = stride[dim - 1 - d];
    }
  });
}

int calor_get_stats(calor_sim* sim, calor_stats* out) {
  if (sim == nullptr || out == nullptr) return bad_argument("calor_get_stats: a NULL argument");
  return guarded([&] {
    const calor::Stats st = sim->run->stats();
    *out = calor_stats{st.heat, st.min, st.max, st.l2, sim->run->step(), sim->run->time()};
  });
}

int calor_write_checkpoint(calor_sim* sim, const char* path) {
  if (sim == nullptr || path == nullptr)
    return bad_argument("calor_write_checkpoint: a NULL argument");
  return guarded([&] { calor::write_checkpoint(sim->run->state(), path); }, CALOR_FAILED);
}

void calor_destroy(calor_sim* sim) {
  delete sim;
}

}  // extern "C"
