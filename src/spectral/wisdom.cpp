// FFTW wisdom: plans measured once, saved, and read back by later runs.

#include <fftw3.h>

#include <fstream>
#include <string>

#include "calor/error.hpp"
#include "calor/spectral.hpp"
#include "spectral/plans.hpp"

namespace calor {

bool import_fft_wisdom(const std::string& path) {
  if (!std::ifstream(path)) return false;
  auto lock = detail::lock_fftw_planner();
  if (fftw_import_wisdom_from_filename(path.c_str()) == 0)
    throw Error("'" + path +
                "' is not FFTW wisdom for this FFTW version and precision: delete it to plan "
                "afresh");
  return true;
}

void export_fft_wisdom(const std::string& path) {
  auto lock = detail::lock_fftw_planner();
  if (fftw_export_wisdom_to_filename(path.c_str()) == 0)
    throw Error("cannot write FFTW wisdom to '" + path +
                "': check that the directory exists and is writable");
}

}  // namespace calor
