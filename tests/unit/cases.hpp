#pragma once
// Problems that exercise every code path: 1D/2D/3D, tiny and odd sizes, every boundary mix,
// both stencil forms, volumetric and point sources (two in one cell). Shared by the backend and
// the MPI bit-for-bit tests.

#include <string>
#include <vector>

namespace calor::test {

struct Case {
  std::string name;
  std::string toml;
};

inline std::string sizes(int dim, std::initializer_list<int> n) {
  std::string s = "dim = " + std::to_string(dim) + "\nn = [";
  int i = 0;
  for (int v : n)
    s += (i++ ? ", " : "") + std::to_string(v);
  return s + "]\n";
}

inline const char* kMixes[] = {
    "boundary.all = { type = \"dirichlet\", value = 0.5 }\n",
    "boundary.all = { type = \"neumann\", gradient = 0.25 }\n",
    "boundary.all = \"periodic\"\n",
    // every kind at once, the outermost axis not periodic
    "[boundary]\nx = \"periodic\"\ny_low = { type = \"dirichlet\", value = -1.0 }\n"
    "y_high = { type = \"neumann\", gradient = 0.5 }\nz_low = \"neumann\"\n"
    "z_high = { type = \"dirichlet\", value = 2.0 }\n",
    // the outermost axis periodic: the tiled backend must notice and still be exact
    "[boundary]\nx_low = { type = \"dirichlet\", value = 1.0 }\nx_high = \"neumann\"\n"
    "y = \"periodic\"\nz = \"periodic\"\n",
};

/// A problem with variable alpha, Robin faces, a source field and time tables, mix `id % 3`.
inline std::string variable_mix(int dim, int id) {
  auto point = [dim](double v) {
    std::string s = "[";
    for (int a = 0; a < dim; ++a)
      s += (a ? ", " : "") + std::to_string(v);
    return s + "]";
  };
  const std::string zero = dim == 1 ? "[0]" : dim == 2 ? "[0, 0]" : "[0, 0, 0]";
  std::string s = "steps = " + std::string(id % 2 ? "9" : "14") + "\n";
  s += dim == 1 ? "h = 0.9\n" : dim == 2 ? "h = [0.9, 1.1]\n" : "h = [0.9, 1.1, 1.3]\n";
  switch (id % 3) {
    case 0:  // Robin everywhere, a conductive sphere, a heated box
      s += "boundary.all = { type = \"robin\", h = 0.7, ambient = [[0.0, 1.0], [5.0, -2.0]] }\n";
      s += "diffusivity = { type = \"sphere\", centre = " + point(3.0) +
           ", radius = 2.5, inside = 4.0 }\n";
      s += "sources.field = { type = \"box\", lo = " + point(0.5) + ", hi = " + point(4.0) +
           ", inside = 0.75 }\n";
      break;
    case 1:  // periodic x, a ramped Dirichlet face, layers averaged arithmetically
      s += "[boundary]\nx = \"periodic\"\n";
      if (dim >= 2)
        s += "y_low = { type = \"dirichlet\", value = [[0.0, 0.0], [3.0, 2.0], [6.0, 1.0]] }\n"
             "y_high = { type = \"robin\", h = 2.0, ambient = 0.5 }\n";
      if (dim >= 3) s += "z = \"neumann\"\n";
      s += "[diffusivity]\ntype = \"layers\"\naxis = \"" + std::string(dim >= 2 ? "y" : "x") +
           "\"\nbounds = [2.0, 4.5]\nvalues = [1.0, 0.02, 3.0]\nmean = \"arithmetic\"\n";
      s += "[sources]\nvolumetric = 0.1\npoints = [{ at = " + zero +
           ", energy = [[0.0, 0.0], [4.0, 3.0]] }]\n";
      break;
    default:  // periodic, a box inclusion, a heated sphere
      s += "boundary.all = \"periodic\"\n";
      s += "diffusivity = { type = \"box\", lo = " + point(1.0) + ", hi = " + point(3.0) +
           ", inside = 0.05 }\n";
      s += "sources.field = { type = \"sphere\", centre = " + point(2.0) +
           ", radius = 3.0, inside = -0.5 }\n";
      s += "sources.points = [{ at = " + zero + ", energy = 2.0 }]\n";
      break;
  }
  return s;
}

inline std::vector<Case> cases() {
  std::vector<Case> v;
  const std::vector<std::pair<int, std::string>> grids = {
      {1, sizes(1, {1})},         {1, sizes(1, {2})},       {1, sizes(1, {7})},
      {1, sizes(1, {1001})},      {2, sizes(2, {1, 1})},    {2, sizes(2, {2, 3})},
      {2, sizes(2, {3, 7})},      {2, sizes(2, {33, 7})},   {2, sizes(2, {1001, 3})},
      {2, sizes(2, {7, 33})},     {2, sizes(2, {17, 29})},  {3, sizes(3, {1, 1, 1})},
      {3, sizes(3, {2, 3, 7})},   {3, sizes(3, {7, 3, 2})}, {3, sizes(3, {33, 7, 5})},
      {3, sizes(3, {9, 11, 13})},
  };
  int id = 0;
  for (const auto& [dim, grid] : grids)
    for (std::size_t m = 0; m < std::size(kMixes); ++m) {
      std::string mix = kMixes[m];
      if (dim < 3)  // drop the faces this dimension does not have
        for (const char* face : {"z_low", "z_high", "z ="}) {
          const auto p = mix.find(face);
          if (p != std::string::npos) mix.erase(p, mix.find('\n', p) - p + 1);
        }
      if (dim < 2)
        for (const char* face : {"y_low", "y_high", "y ="}) {
          const auto p = mix.find(face);
          if (p != std::string::npos) mix.erase(p, mix.find('\n', p) - p + 1);
        }
      // Alternate the stencil form, sources and the volumetric term across cases.
      const bool factored = id % 2 == 0;
      std::string extra = std::string("steps = ") + (id % 3 == 0 ? "7" : "13") + "\n" +
                          (factored ? "form = \"factored\"\n" : "h = [0.9, 1.1, 1.3]\n");
      if (!factored && dim < 3)
        extra.replace(extra.find("h = "), std::string::npos,
                      dim == 1 ? "h = 0.9\n" : "h = [0.9, 1.1]\n");
      std::string pre = grid + extra;
      std::string post = "[sources]\n";
      if (id % 3 != 1) post += "volumetric = 0.3\n";
      // Sources at a corner, an edge and twice in one cell (order must be kept).
      post += "points = [{ at = [0" + std::string(dim >= 2 ? ", 0" : "") + (dim >= 3 ? ", 0" : "") +
              "], energy = 1.5 }, { at = [0" + (dim >= 2 ? ", 0" : "") + (dim >= 3 ? ", 0" : "") +
              "], energy = 1e-17 }]\n";
      v.push_back({"case" + std::to_string(id++), pre + mix + post});
    }
  // Variable alpha (both face means, every shape), Robin faces, a source field and time tables,
  // one mix per grid in turn.
  int vid = 0;
  for (const auto& [dim, grid] : grids)
    v.push_back({"variable" + std::to_string(vid), grid + variable_mix(dim, vid++)});
  return v;
}

}  // namespace calor::test
