#pragma once
/// \file config.hpp
/// Settings from a TOML file, command-line flags and presets, checked strictly: unknown keys,
/// wrong types and out-of-range values are errors naming the key, the value and where it came
/// from. Nothing is silently ignored.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calor/problem.hpp"
#include "calor/spectral_options.hpp"

namespace calor {

/// How often something happens: every `steps` steps, or every `seconds` of wall time.
struct Every {
  std::int64_t steps = 0;
  double seconds = 0;
  [[nodiscard]] bool set() const { return steps > 0 || seconds > 0; }
};

/// How a run computes: the explicit FTCS stencil, or the spectral method (FFT, periodic and
/// Dirichlet-zero boundaries).
enum class MethodKind { stencil, spectral };
/// "stencil" or "spectral", as the `method` key spells it.
std::string_view to_string(MethodKind m);

/// Settings that choose how, not what, to compute, and what to write.
struct RunSettings {
  std::string backend = "auto";
  int threads = 0;     ///< 0 = default
  int tile_depth = 0;  ///< tiled backend: steps per block, 0 = automatic
  int tile_width = 0;  ///< tiled backend: columns (2D) or y-rows (3D) per strip, 0 = automatic
  std::string output;  ///< HDF5 snapshot file (an .xmf sidecar is written beside it)
  Every output_every;
  std::string png;  ///< PNG frame prefix: PREFIX_<step>.png
  std::int64_t png_every = 0;
  double png_lo = 0, png_hi = 0;  ///< the frames' colour range; equal: the first frame's
  bool png_log = false;           ///< a log10 colour scale
  std::string checkpoint;         ///< checkpoint file
  Every checkpoint_every;
  std::int64_t check_every = 100;  ///< NaN/Inf and blow-up check interval in steps (0: at the end)
  MethodKind method = MethodKind::stencil;
  SpectralMode spectral_mode = SpectralMode::discrete;  ///< spectral method only
  FftPlanning fft_planning = FftPlanning::estimate;     ///< spectral method only
  std::string fft_wisdom;  ///< FFTW wisdom file, read before and written after
};

/// A fully checked configuration.
struct Config {
  Problem problem;
  RunSettings run;
};

/// One `key = value` setting from outside the file, e.g. {"n", "480", "--n"}. The value is TOML
/// ("480", "[480, 320]", "true", "\"periodic\""); a bare word that is not TOML is taken as a
/// string, and "a,b" as the array [a, b].
struct Override {
  std::string key;
  std::string value;
  std::string origin;  ///< where it came from, for messages (e.g. "--n" or "--set")
};

/// Cell fields given as arrays in memory (Python's NumPy arrays, a C++ caller's vectors): one
/// value per interior cell, x fastest. Each takes the place of its TOML table, which must then
/// be absent.
struct CellArrays {
  std::shared_ptr<const std::vector<double>> diffusivity;  ///< alpha(x)
  std::shared_ptr<const std::vector<double>> heating;      ///< q(x), as sources.field
};

/// Builds a configuration from TOML text (may be empty), named `source` in messages, with
/// `overrides` applied on top, and `arrays` as its cell fields. Throws calor::Error.
Config load_config(std::string_view toml_text, const std::string& source,
                   const std::vector<Override>& overrides = {}, const CellArrays& arrays = {});
/// Reads `path` and calls load_config; a missing or unreadable file is an Error naming it.
Config load_config_file(const std::string& path, const std::vector<Override>& overrides = {});

/// The problem's physics and step count as the TOML that load_config reads back into the same
/// problem (its initial state excepted: a restart loads the field). A checkpoint carries it.
std::string problem_toml(const Problem& p);

/// One member of a sweep: its own settings (key, TOML value) and its configuration, or the
/// reader's error for them (a member with a bad value is one failed member, not a bad sweep).
struct SweepMember {
  std::vector<std::pair<std::string, std::string>> settings;
  Config config;
  std::string error;
};

/// The members of a sweep file (`calor sweep`): its top-level settings are shared by every
/// member, and each key of its [sweep] table lists values; the members are their product, the
/// last key varying fastest. Throws calor::Error for a malformed file or [sweep] table.
std::vector<SweepMember> load_sweep(std::string_view text, const std::string& source);

/// The name in `names` nearest to `word`, three edits away at most, or "" if none is that close:
/// for "did you mean" hints (a misspelt key, flag or keyword argument).
std::string nearest_name(std::string_view word, const std::vector<std::string>& names);

/// One configuration key. The table of them (config_keys()) is the one list of keys: the strict
/// reader accepts exactly these (and suggests the nearest for a misspelt one), `calor run
/// --help` lists them and Python's help(calor.Problem) documents them.
struct ConfigKey {
  std::string name;           ///< dotted, as in `--set`: "n", "output.every", "boundary.x_low"
  std::string type;           ///< a short word: "integer", "number", "string or table", ...
  std::string default_value;  ///< as text for people ("100", "half the FTCS limit"); "" if none
  std::string help;           ///< one or two lines
  std::string example;        ///< a TOML value: 480, "30s", [0.5, 1.0], {type = "neumann"}
};
/// The keys, grouped for listing: the top-level ones, then each [section]'s in turn.
const std::vector<ConfigKey>& config_keys();

/// A named, ready-made problem.
struct PresetInfo {
  std::string name;
  std::string summary;
};
/// The presets, in the order `calor run --help` lists them.
const std::vector<PresetInfo>& presets();

/// The study's source positions for an nx-by-ny grid, 0-based: (nx/2, ny/2), (nx/3, ny/3),
/// (nx*4/5, ny*8/9) in the study's 1-based numbering, integer division after multiplication.
std::vector<PointSource> stencil_sources(index_t nx, index_t ny, double energy);

}  // namespace calor
