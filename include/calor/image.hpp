#pragma once
/// \file image.hpp
/// PNG heat maps: a perceptual colour map (viridis), a colour bar with its range written on it.

#include <cstdint>
#include <string>
#include <vector>

namespace calor {

struct State;

/// Writes `nx` by `ny` values (x fastest, y = 0 at the bottom of the image) as a heat map with a
/// colour bar labelled with the minimum and maximum. Throws calor::Error naming the file.
void write_heatmap_png(const std::string& path, const std::vector<double>& values, std::int64_t nx,
                       std::int64_t ny, const std::string& title = "");

/// The image of a field in NumPy-order `shape`: 2D as is, 3D its middle z-slice (or `slice`), 1D
/// a strip. Returns the values and sets nx, ny.
std::vector<double> image_plane(const std::vector<double>& field,
                                const std::vector<std::int64_t>& shape, std::int64_t slice,
                                std::int64_t& nx, std::int64_t& ny);

/// Gathers the field (collective) and writes PREFIX_<step>.png on rank 0.
void write_png_frame(const State& s, const std::string& prefix);
/// PREFIX_<step, 8 digits>.png
std::string png_frame_path(const std::string& prefix, std::int64_t step);

/// "libpng 1.6.39", for `calor info`.
std::string image_library();

}  // namespace calor
