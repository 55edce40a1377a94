#include "calor/image.hpp"

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "calor/error.hpp"
#include "calor/output.hpp"
#include "calor/state.hpp"
#include "output/atomic.hpp"

namespace calor {

namespace {

using Rgb = std::array<std::uint8_t, 3>;

// Viridis, sampled at 9 points and interpolated linearly: perceptually uniform and readable in
// grey and by colour-blind viewers.
Rgb viridis(double t) {
  static const double c[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                 {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                 {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 8.0;
  const int i = std::min(static_cast<int>(t), 7);
  const double f = t - i;
  Rgb out{};
  for (int k = 0; k < 3; ++k)
    out[static_cast<std::size_t>(k)] =
        static_cast<std::uint8_t>(std::lround(c[i][k] + f * (c[i + 1][k] - c[i][k])));
  return out;
}

// A 3x5 pixel font for the colour bar's numbers.
const char* glyph(char ch) {
  switch (ch) {
    case '0':
      return "111101101101111";
    case '1':
      return "010110010010111";
    case '2':
      return "111001111100111";
    case '3':
      return "111001111001111";
    case '4':
      return "101101111001001";
    case '5':
      return "111100111001111";
    case '6':
      return "111100111101111";
    case '7':
      return "111001001001001";
    case '8':
      return "111101111101111";
    case '9':
      return "111101111001111";
    case '.':
      return "000000000000010";
    case '-':
      return "000000111000000";
    case '+':
      return "000010111010000";
    case 'e':
      return "000111111100111";
    case 's':
      return "011100010001110";
    case 't':
      return "010111010010011";
    case 'p':
      return "110101110100100";
    case 'l':
      return "110010010010111";
    case 'o':
      return "000111101101111";
    case 'g':
      return "111101111001111";
    case '=':
      return "000111000111000";
    default:
      return "000000000000000";
  }
}

struct Canvas {
  int w, h;
  std::vector<std::uint8_t> px;  // RGB rows, top first
  Canvas(int width, int height)
      : w(width),
        h(height),
        px(std::size_t{3} * static_cast<std::size_t>(width) * static_cast<std::size_t>(height),
           255) {}
  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    const std::size_t o = 3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(w) +
                               static_cast<std::size_t>(x));
    px[o] = c[0];
    px[o + 1] = c[1];
    px[o + 2] = c[2];
  }
  void text(int x, int y, const std::string& s, int scale) {
    for (char ch : s) {
      const char* g = glyph(ch);
      for (int r = 0; r < 5; ++r)
        for (int col = 0; col < 3; ++col)
          if (g[r * 3 + col] == '1')
            for (int dy = 0; dy < scale; ++dy)
              for (int dx = 0; dx < scale; ++dx)
                set(x + col * scale + dx, y + r * scale + dy, {0, 0, 0});
      x += 4 * scale;
    }
  }
};

std::string label(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// The range to draw `values` with: `range` if fixed, else the finite values' own range. A log
// scale starts at the smallest positive value (at least hi / 1e12); an empty range is widened.
ColourRange resolve(const std::vector<double>& values, ColourRange range) {
  if (!range.fixed()) {
    double lo = INFINITY, hi = -INFINITY, positive = INFINITY;
    for (double v : values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        if (v > 0) positive = std::min(positive, v);
      }
    if (!(lo <= hi)) lo = hi = 0;
    range.lo = range.log ? positive : lo;
    range.hi = hi;
  }
  if (range.log) {
    if (!(range.hi > 0)) range.hi = 1;
    range.lo = std::isfinite(range.lo) ? std::max(range.lo, range.hi * 1e-12) : range.hi * 1e-12;
  }
  if (!(range.lo < range.hi)) range.hi = range.log ? range.lo * 10 : range.lo + 1;
  return range;
}

// Where `v` sits in `r`, 0 (bottom) to 1 (top), before clamping; NaN, and on a log scale any
// value at or below 0, at the bottom.
double position(double v, const ColourRange& r) {
  if (!std::isfinite(v) || (r.log && v <= 0)) return 0;
  if (r.log) return (std::log10(v) - std::log10(r.lo)) / (std::log10(r.hi) - std::log10(r.lo));
  return (v - r.lo) / (r.hi - r.lo);
}

// The labels of a range's bottom and top, on the colour bar or the y axis.
void range_labels(Canvas& c, int x, int top, int height, const ColourRange& r, int font) {
  c.text(x, top, label(r.hi), font);
  c.text(x, top + height - 5 * font, label(r.lo), font);
  if (r.log) c.text(x, top + height / 2 - 2 * font, "log", font);
}

// A heat map of nx by ny values and its colour bar, below a caption line.
Canvas heat_map(const std::vector<double>& values, std::int64_t nx, std::int64_t ny,
                const std::string& caption, const ColourRange& r) {
  // Scale small grids up and large ones down to a readable size.
  const double longest = static_cast<double>(std::max(nx, ny));
  const double scale = std::clamp(800.0 / longest, 1.0 / 16, 16.0);
  const int iw = std::max(1, static_cast<int>(std::lround(static_cast<double>(nx) * scale)));
  const int ih = std::max(1, static_cast<int>(std::lround(static_cast<double>(ny) * scale)));
  // From the shorter side, capped: a long thin field must not get a huge font and margins.
  const int font = std::clamp(std::min(iw, ih) / 200, 2, 6), bar_w = std::clamp(iw / 25, 12, 60);
  const int pad = 4 * font, label_w = 4 * font * 10;
  const int top = pad + (caption.empty() ? 0 : 7 * font);
  Canvas c(iw + 3 * pad + bar_w + label_w, ih + pad + top);
  c.text(pad, pad, caption, font);
  for (int y = 0; y < ih; ++y)
    for (int x = 0; x < iw; ++x) {
      // Nearest cell; image row 0 is the top, grid row ny-1.
      const auto i = std::min<std::int64_t>(nx - 1, static_cast<std::int64_t>(x / scale));
      const auto j =
          std::min<std::int64_t>(ny - 1, static_cast<std::int64_t>((ih - 1 - y) / scale));
      c.set(pad + x, top + y, viridis(position(values[static_cast<std::size_t>(i + nx * j)], r)));
    }
  const int bx = iw + 2 * pad;
  for (int y = 0; y < ih; ++y)
    for (int x = 0; x < bar_w; ++x)
      c.set(bx + x, top + y, viridis(1.0 - static_cast<double>(y) / std::max(1, ih - 1)));
  range_labels(c, bx + bar_w + font, top, ih, r, font);
  return c;
}

// A line plot of n values (a 1D field): each pixel column spans the cells under it, drawn
// from their lowest to their highest value and joined to the column before, so that a field
// of millions of cells costs one pass and shows its extremes.
Canvas line_plot(const std::vector<double>& values, std::int64_t n, const std::string& caption,
                 const ColourRange& r) {
  constexpr int pw = 800, ph = 360, font = 3;
  const int pad = 4 * font, label_w = 4 * font * 10;
  const int top = pad + (caption.empty() ? 0 : 7 * font), left = pad + label_w;
  Canvas c(left + pw + pad, top + ph + pad + 6 * font);
  c.text(pad, pad, caption, font);
  const Rgb frame{160, 160, 160}, line = viridis(0.15);
  for (int x = -1; x <= pw; ++x) {
    c.set(left + x, top - 1, frame);
    c.set(left + x, top + ph, frame);
  }
  for (int y = -1; y <= ph; ++y) {
    c.set(left - 1, top + y, frame);
    c.set(left + pw, top + y, frame);
  }
  auto height = [&](double v) {
    return static_cast<int>(std::lround((ph - 1) * (1 - std::clamp(position(v, r), 0.0, 1.0))));
  };
  int previous = -1;
  for (int x = 0; x < pw; ++x) {
    const std::int64_t first = std::int64_t{x} * n / pw;
    const std::int64_t last = std::max(first + 1, std::int64_t{x + 1} * n / pw);
    int hi = ph, lo = -1;
    for (std::int64_t i = first; i < std::min(last, n); ++i) {
      const int y = height(values[static_cast<std::size_t>(i)]);
      hi = std::min(hi, y);
      lo = std::max(lo, y);
    }
    if (previous >= 0) hi = std::min(hi, previous), lo = std::max(lo, previous);
    for (int y = hi; y <= lo; ++y)
      c.set(left + x, top + y, line);
    previous = height(values[static_cast<std::size_t>(std::min(last, n) - 1)]);
  }
  range_labels(c, pad, top, ph, r, font);
  c.text(left, top + ph + 2 * font, "0", font);
  const std::string end = std::to_string(n - 1);
  c.text(left + pw - 4 * font * static_cast<int>(end.size()), top + ph + 2 * font, end, font);
  return c;
}

// Encodes the canvas; kept apart from the drawing because libpng reports errors by longjmp.
void save_png(const std::string& path, const Canvas& c, const std::string& title,
              const std::string& comment) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) throw Error("cannot write image '" + path + "': check the directory exists");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (png == nullptr || info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error("cannot write image '" + path + "' (disk full?)");
  }
  png_init_io(png, f.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(c.w), static_cast<png_uint_32>(c.h), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::string range = comment;
  png_text text[2] = {};
  text[0].compression = PNG_TEXT_COMPRESSION_NONE;
  text[0].key = const_cast<char*>("Title");
  text[0].text = const_cast<char*>(title.c_str());
  text[1].compression = PNG_TEXT_COMPRESSION_NONE;
  text[1].key = const_cast<char*>("Comment");
  text[1].text = range.data();
  png_set_text(png, info, text, 2);
  png_write_info(png, info);
  for (int y = 0; y < c.h; ++y)
    png_write_row(png, c.px.data() + std::size_t{3} * static_cast<std::size_t>(y) *
                                         static_cast<std::size_t>(c.w));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(f.get()) != 0) throw Error("cannot write image '" + path + "' (disk full?)");
}

}  // namespace

void write_heatmap_png(const std::string& path, const std::vector<double>& values, std::int64_t nx,
                       std::int64_t ny, const std::string& title, ColourRange range) {
  const ColourRange r = resolve(values, range);
  const Canvas c = ny == 1 ? line_plot(values, nx, title, r) : heat_map(values, nx, ny, title, r);
  // All or nothing: a full disk leaves no truncated PNG under `path`.
  write_atomically(path, [&](const std::string& tmp) {
    save_png(tmp, c, title, label(r.lo) + " .. " + label(r.hi) + (r.log ? " (log)" : ""));
  });
}

std::vector<double> image_plane(const std::vector<double>& field,
                                const std::vector<std::int64_t>& shape, std::int64_t slice,
                                std::int64_t& nx, std::int64_t& ny) {
  // Every index below stays inside `field`: the shape is checked against its size first.
  std::string text = "(";
  for (std::size_t d = 0; d < shape.size(); ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  text += shape.size() == 1 ? ",)" : ")";
  if (shape.empty() || shape.size() > 3)
    throw Error("cannot draw a field of shape " + text +
                ": calor draws 1-, 2- and 3-dimensional fields");
  std::int64_t count = 1;
  for (const std::int64_t e : shape) {
    if (e < 1)
      throw Error("cannot draw a field of shape " + text + ": every extent must be at least 1");
    if (__builtin_mul_overflow(count, e, &count))
      throw Error("cannot draw a field of shape " + text + ": its size overflows 64 bits");
  }
  if (static_cast<std::uint64_t>(count) != field.size())
    throw Error("cannot draw a field of shape " + text + " from " + std::to_string(field.size()) +
                " values");
  if (shape.size() == 1) {  // a line plot
    nx = shape[0];
    ny = 1;
    return field;
  }
  nx = shape.back();
  ny = shape[shape.size() - 2];
  if (shape.size() == 2) return field;
  const std::int64_t nz = shape[0];
  const std::int64_t k = slice >= 0 ? std::min(slice, nz - 1) : nz / 2;
  return std::vector<double>(field.begin() + k * nx * ny, field.begin() + (k + 1) * nx * ny);
}

void write_png_frame(const State& s, const std::string& prefix, ColourRange& range) {
  const std::vector<double> global = s.gather();
  if (!s.comm->root()) return;
  const Grid& g = s.problem->grid;
  std::vector<std::int64_t> shape;
  for (int a = g.dim - 1; a >= 0; --a)
    shape.push_back(g.n[a]);
  std::int64_t nx = 0, ny = 0;
  const auto plane = image_plane(global, shape, -1, nx, ny);
  if (!range.fixed()) range = resolve(plane, range);  // the first frame's range, for them all
  char caption[96];
  std::snprintf(caption, sizeof caption, "step %lld   t = %.6g", static_cast<long long>(s.step),
                s.time);
  write_heatmap_png(png_frame_path(prefix, s.step), plane, nx, ny, caption, range);
}

std::string png_frame_path(const std::string& prefix, std::int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "_%08lld.png", static_cast<long long>(step));
  return prefix + name;
}

namespace {

class PngOutput final : public Output {
 public:
  PngOutput(std::string prefix, ColourRange range) : prefix_(std::move(prefix)), range_(range) {}
  void write(const State& s) override {
    write_png_frame(s, prefix_, range_);
    last_ = png_frame_path(prefix_, s.step);
  }
  [[nodiscard]] std::string describe() const override { return "PNG frames " + prefix_ + "_*.png"; }
  [[nodiscard]] std::string last_path() const override { return last_; }

 private:
  std::string prefix_, last_;
  ColourRange range_;  // fixed by the first frame unless the configuration set it
};

}  // namespace

std::unique_ptr<Output> make_png_output(const std::string& prefix, ColourRange range) {
  return std::make_unique<PngOutput>(prefix, range);
}

std::string image_library() {
  return std::string("libpng ") + png_get_libpng_ver(nullptr);
}

}  // namespace calor
