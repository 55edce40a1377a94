#pragma once
/// \file image.hpp
/// PNG heat maps: a perceptual colour map (viridis), a colour bar with its range written on it.

#include <cstdint>
#include <string>
#include <vector>

namespace calor {

struct State;

/// How values map to colours (a 1D line plot: to heights). lo == hi: the values' own range.
struct ColourRange {
  double lo = 0, hi = 0;
  bool log = false;  ///< log10 scale; values <= 0 are drawn as the bottom of the range
  [[nodiscard]] bool fixed() const { return lo < hi; }
};

/// Writes `nx` by `ny` values (x fastest, y = 0 at the bottom of the image) as a heat map with a
/// labelled colour bar, or, when ny is 1, as a line plot; `title` ("step 100  t = 12.5") is
/// drawn above it. Throws calor::Error naming the file.
void write_heatmap_png(const std::string& path, const std::vector<double>& values, std::int64_t nx,
                       std::int64_t ny, const std::string& title = "", ColourRange range = {});

/// The image of a field in NumPy-order `shape`: 2D as is, 3D its middle z-slice (or `slice`), 1D
/// as it is with ny = 1 (drawn as a line plot). Returns the values and sets nx, ny.
std::vector<double> image_plane(const std::vector<double>& field,
                                const std::vector<std::int64_t>& shape, std::int64_t slice,
                                std::int64_t& nx, std::int64_t& ny);

/// Gathers the field (collective) and writes PREFIX_<step>.png on rank 0, coloured by `range`;
/// an unset range is fixed from this frame (the first of a series), so that a movie of the
/// frames does not flicker.
void write_png_frame(const State& s, const std::string& prefix, ColourRange& range);
/// PREFIX_<step, 8 digits>.png
std::string png_frame_path(const std::string& prefix, std::int64_t step);

/// "libpng 1.6.39", for `calor info`.
std::string image_library();

}  // namespace calor
