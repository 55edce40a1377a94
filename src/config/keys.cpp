// The configuration keys: the one table that the strict reader (config.cpp), `calor run --help`
// (apps/calor/main.cpp) and Python's help(calor.Problem) (python/calor/_problem.py) use. A key
// load_config reads must be listed here (the reader checks), and each example must load (the
// unit tests check, tests/unit/test_config.cpp).

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "calor/config.hpp"

namespace calor {

namespace {

// The keys of a cell field under `prefix` (diffusivity, sources.field): `what` it is and the
// value a shape leaves outside itself.
std::vector<ConfigKey> cell_field_keys(const std::string& prefix, const std::string& what,
                                       const std::string& outside, const std::string& example) {
  return {
      {prefix + ".type", "string", "none",
       what + ": npy (path) | hdf5 (path, dataset) | layers (axis, bounds, values) | box (lo, hi, "
              "inside) | sphere (centre, radius, inside); coordinates as initial.centre, cell i "
              "at (i + 1)*h",
       "\"layers\""},
      {prefix + ".path", "string", "",
       "npy, hdf5: the file, float64 of shape (nz, ny, nx), the interior", "\"" + example + "\""},
      {prefix + ".dataset", "string", "", "hdf5: the dataset in the file", "\"/alpha\""},
      {prefix + ".axis", "string", "x", "layers: the axis they stack along: x | y | z", "\"y\""},
      {prefix + ".bounds", "array", "",
       "layers: the increasing coordinates where one layer ends and the next begins",
       "[10.0, 20.0]"},
      {prefix + ".values", "array", "", "layers: one value per layer, one more than bounds",
       "[1.0, 0.05, 1.0]"},
      {prefix + ".lo", "array", "", "box: its low corner", "[10.0, 10.0]"},
      {prefix + ".hi", "array", "", "box: its high corner (excluded)", "[20.0, 30.0]"},
      {prefix + ".centre", "array", "", "sphere: its centre", "[16.0, 16.0]"},
      {prefix + ".radius", "number", "", "sphere: its radius", "5.0"},
      {prefix + ".inside", "number", "", "box, sphere: the value inside; outside it is " + outside,
       "0.01"},
  };
}

std::vector<ConfigKey> problem_keys();
std::vector<ConfigKey> output_keys();
std::vector<ConfigKey> field_keys();

// The tables below, in order, with the cell-field keys in their sections.
std::vector<ConfigKey> all_keys() {
  std::vector<ConfigKey> keys = problem_keys();
  for (auto part : {output_keys(), field_keys()})
    keys.insert(keys.end(), part.begin(), part.end());
  auto after = [&](std::string_view name) {
    return std::find_if(keys.begin(), keys.end(),
                        [&](const ConfigKey& k) { return k.name == name; }) +
           1;
  };
  auto heat = cell_field_keys("sources.field", "a heat-source rate q(x), added to volumetric", "0",
                              "heat.npy");
  keys.insert(after("sources.points"), heat.begin(), heat.end());
  auto alpha = cell_field_keys("diffusivity", "alpha(x), a diffusivity that varies in space",
                               "alpha", "alpha.npy");
  alpha.push_back({"diffusivity.mean", "string", "harmonic",
                   "the alpha of a face between two cells: harmonic (2ab/(a+b), right at a "
                   "material interface) | arithmetic ((a+b)/2)",
                   "\"arithmetic\""});
  keys.insert(after("boundary.z_high"), alpha.begin(), alpha.end());
  return keys;
}

// The problem and how to compute it.
std::vector<ConfigKey> problem_keys() {
  std::string preset_names;
  for (const auto& p : presets())
    preset_names += p.name + " | ";
  return {
      // ---- the problem -------------------------------------------------------------------------
      {"preset", "string", "stencil without a file, else none",
       preset_names + "none: a ready-made problem (see Presets) that fills in the keys left out",
       "\"gaussian2d\""},
      {"dim", "integer", "2", "number of dimensions: 1, 2 or 3", "3"},
      {"n", "integer or array", "",
       "cells per axis: 480 or [nx, ny] or [nx, ny, nz] (x is the contiguous axis); required "
       "unless the preset sets it",
       "[480, 320]"},
      {"h", "number or array", "1.0", "grid spacing: 1.0 or [dx, dy] or [dx, dy, dz]",
       "[0.5, 1.0]"},
      {"alpha", "number", "1.0", "diffusivity (> 0)", "0.1"},
      {"dt", "number", "half the FTCS limit",
       "time step; the default makes r = alpha*dt*sum(1/h^2) = 1/4, half the limit 1/2", "0.1"},
      {"steps", "integer", "100", "number of time steps", "500"},
      {"form", "string", "expanded",
       "stencil arithmetic: expanded | factored (the case study's 0.5*(u + 0.25*sum); needs "
       "the same r on every axis)",
       "\"factored\""},
      {"allow_unstable", "boolean", "false", "true to run with r > 1/2", "true"},
      {"energy", "number", "1.0 with preset stencil",
       "stencil preset only: the energy each of its three point sources adds per step", "2.0"},
      {"method", "string", "stencil",
       "stencil (explicit FTCS) | spectral (FFT: all steps at once; periodic or zero-Dirichlet "
       "faces)",
       "\"spectral\""},
      // ---- how to compute ----------------------------------------------------------------------
      {"backend", "string", "auto",
       "auto | serial (scalar reference) | simd | threads | tiled (temporal blocking); auto "
       "picks by grid size and says why; `calor info` lists those compiled in",
       "\"threads\""},
      {"threads", "integer", "0", "threads per process, 0 = OMP_NUM_THREADS or all cores", "4"},
      {"tile_depth", "integer", "0",
       "tiled: steps per block (up to 1024), 0 = chosen from the last-level cache size", "8"},
      {"tile_width", "integer", "0",
       "tiled: columns per strip in 2D, y-rows per strip in 3D (2 or more), 0 = chosen from the "
       "cache sizes",
       "64"},
      {"check_every", "integer", "100",
       "NaN/Inf/blow-up check interval in steps (at the first whole tiled block at or after each "
       "multiple), 0 = at the end only",
       "50"},
  };
}

// What a run writes: snapshots, frames, checkpoints (and the spectral solver's planning).
std::vector<ConfigKey> output_keys() {
  return {
      // ---- [output] ----------------------------------------------------------------------------
      {"output.path", "string", "",
       "HDF5 snapshot file; an .xmf file for ParaView is written beside it", "\"out/run.h5\""},
      {"output.every", "integer or duration", "the last step only",
       "snapshot interval: steps, or wall time such as \"30s\", \"5min\", \"1h\"", "\"30s\""},
      {"output.png", "string", "",
       "PNG frame prefix: PREFIX_<step>.png (2D; 3D: the middle z-slice)", "\"out/frame\""},
      {"output.png_every", "integer", "the last step only", "PNG frame interval in steps", "10"},
      {"output.png_range", "array", "the first frame's range",
       "[lo, hi]: the values at the bottom and top of every frame's colour scale (fixed, so "
       "that a movie of the frames does not flicker)",
       "[0.0, 2.5]"},
      {"output.png_log", "boolean", "false", "a log10 colour scale (lo > 0)", "true"},
      // ---- [checkpoint] ------------------------------------------------------------------------
      {"checkpoint.path", "string", "",
       "checkpoint file (kept safe: temp, fsync, rename, .prev); SIGINT/SIGTERM/SIGUSR1 save "
       "one and exit with status 75; continue with --restart FILE",
       "\"out/run.ckpt.h5\""},
      {"checkpoint.every", "integer or duration", "the last step only",
       "checkpoint interval: steps, or wall time such as \"10min\"", "\"10min\""},
      // ---- [spectral] --------------------------------------------------------------------------
      {"spectral.mode", "string", "discrete",
       "discrete (bit-close to the stencil) | continuous (exact in time)", "\"continuous\""},
      {"spectral.planning", "string", "estimate", "FFTW planning: estimate | measure | patient",
       "\"measure\""},
      {"spectral.wisdom", "string", "", "FFTW wisdom file, read before and written after",
       "\"fft.wisdom\""},
  };
}

// The faces, the sources and the initial state.
std::vector<ConfigKey> field_keys() {
  const std::string kBoundary = "string or table";
  return {
      // ---- [boundary] --------------------------------------------------------------------------
      {"boundary.all", kBoundary, "dirichlet (value 0)",
       "every face: \"dirichlet\" | \"neumann\" | \"periodic\", or {type = \"dirichlet\", value "
       "= 1.0} / {type = \"neumann\", gradient = 0.1} / {type = \"robin\", h = 10.0, ambient = "
       "20.0} (-alpha du/dn = h (u - ambient)); value, gradient and ambient may be time tables "
       "[[t0, v0], [t1, v1], ...]",
       "\"periodic\""},
      {"boundary.x", kBoundary, "boundary.all", "both x faces, as boundary.all", "\"neumann\""},
      {"boundary.y", kBoundary, "boundary.all", "both y faces, as boundary.all", "\"periodic\""},
      {"boundary.z", kBoundary, "boundary.all", "both z faces (3D), as boundary.all",
       "\"neumann\""},
      {"boundary.x_low", kBoundary, "boundary.x",
       "the low x face, as boundary.all; periodic needs x_high periodic too",
       "{type = \"dirichlet\", value = 1.0}"},
      {"boundary.x_high", kBoundary, "boundary.x",
       "the high x face, as boundary.all; periodic needs x_low periodic too",
       "{type = \"neumann\", gradient = 0.1}"},
      {"boundary.y_low", kBoundary, "boundary.y",
       "the low y face, as boundary.all; periodic needs y_high periodic too", "\"neumann\""},
      {"boundary.y_high", kBoundary, "boundary.y",
       "the high y face, as boundary.all; periodic needs y_low periodic too",
       "{type = \"dirichlet\", value = 0.5}"},
      {"boundary.z_low", kBoundary, "boundary.z",
       "the low z face (3D), as boundary.all; periodic needs z_high periodic too", "\"neumann\""},
      {"boundary.z_high", kBoundary, "boundary.z",
       "the high z face (3D), as boundary.all; periodic needs z_low periodic too",
       "{type = \"neumann\", gradient = -0.1}"},
      // ---- [sources] ---------------------------------------------------------------------------
      {"sources.volumetric", "number", "0", "heat source rate q: adds q*dt to every cell each step",
       "0.5"},
      {"sources.points", "array of tables", "",
       "point sources, each adding its energy to one cell each step: [{at = [i, j], energy = "
       "1.0}, ...] with 0-based cell indices; energy may be a time table [[t0, e0], [t1, e1], "
       "...] (piecewise linear, constant outside it)",
       "[{at = [10, 20], energy = [[0.0, 0.0], [50.0, 2.0]]}]"},
      // ---- [initial] ---------------------------------------------------------------------------
      {"initial.type", "string", "zero",
       "zero | constant (value) | gaussian (centre, width, amplitude) | npy (path)",
       "\"gaussian\""},
      {"initial.value", "number", "0", "constant: the value of every cell", "1.0"},
      {"initial.centre", "number or array", "the middle of the domain",
       "gaussian: its centre, per axis, where cell i sits at (i + 1)*h", "[16.5, 16.5]"},
      {"initial.width", "number", "1.0", "gaussian: its standard deviation (> 0)", "4.0"},
      {"initial.amplitude", "number", "1.0", "gaussian: its peak value", "2.0"},
      {"initial.path", "string", "",
       "npy: the .npy file to start from: float64, C order, shape (nz, ny, nx) of the interior",
       "\"start.npy\""},
  };
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = all_keys();
  return keys;
}

}  // namespace calor
