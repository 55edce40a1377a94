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
    default:
      return "000000000000000";
  }
}

struct Canvas {
  int w, h;
  std::vector<std::uint8_t> px;  // RGB rows, top first
  Canvas(int width, int height)
      : w(width), h(height), px(static_cast<std::size_t>(width * height * 3), 255) {}
  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    const auto o = static_cast<std::size_t>((y * w + x) * 3);
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
    png_write_row(png, c.px.data() + static_cast<std::size_t>(y * c.w * 3));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(f.get()) != 0) throw Error("cannot write image '" + path + "' (disk full?)");
}

}  // namespace

void write_heatmap_png(const std::string& path, const std::vector<double>& values, std::int64_t nx,
                       std::int64_t ny, const std::string& title) {
  // Scale small grids up and large ones down to a readable size.
  const double longest = static_cast<double>(std::max(nx, ny));
  const double scale = std::clamp(800.0 / longest, 1.0 / 16, 16.0);
  const int iw = std::max(1, static_cast<int>(std::lround(static_cast<double>(nx) * scale)));
  const int ih = std::max(1, static_cast<int>(std::lround(static_cast<double>(ny) * scale)));
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = hi = 0;
  const double span = hi > lo ? hi - lo : 1.0;
  const int font = std::max(2, ih / 150), bar_w = std::max(12, iw / 25), pad = 4 * font;
  const int label_w = 4 * font * 10;
  Canvas c(iw + 3 * pad + bar_w + label_w, ih + 2 * pad);
  const int top = pad;  // the title goes into the PNG's metadata
  for (int y = 0; y < ih; ++y)
    for (int x = 0; x < iw; ++x) {
      // Nearest cell; image row 0 is the top, grid row ny-1.
      const auto i = std::min<std::int64_t>(nx - 1, static_cast<std::int64_t>(x / scale));
      const auto j =
          std::min<std::int64_t>(ny - 1, static_cast<std::int64_t>((ih - 1 - y) / scale));
      const double v = values[static_cast<std::size_t>(i + nx * j)];
      c.set(pad + x, top + y, viridis((v - lo) / span));
    }
  const int bx = iw + 2 * pad;
  for (int y = 0; y < ih; ++y)
    for (int x = 0; x < bar_w; ++x)
      c.set(bx + x, top + y, viridis(1.0 - static_cast<double>(y) / std::max(1, ih - 1)));
  c.text(bx + bar_w + font, top, label(hi), font);
  c.text(bx + bar_w + font, top + ih - 5 * font, label(lo), font);

  // All or nothing: a full disk leaves no truncated PNG under `path`.
  write_atomically(path, [&](const std::string& tmp) {
    save_png(tmp, c, title, label(lo) + " .. " + label(hi));
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
  if (shape.size() == 1) {
    // A strip nx/8 rows high, of at most 2^24 values however long the field.
    nx = shape[0];
    constexpr std::int64_t most = std::int64_t{1} << 24;
    ny = std::clamp<std::int64_t>(nx / 8, 1, std::max<std::int64_t>(1, most / nx));
    std::vector<double> v(static_cast<std::size_t>(nx * ny));
    for (std::int64_t j = 0; j < ny; ++j)
      std::copy(field.begin(), field.end(), v.begin() + j * nx);
    return v;
  }
  nx = shape.back();
  ny = shape[shape.size() - 2];
  if (shape.size() == 2) return field;
  const std::int64_t nz = shape[0];
  const std::int64_t k = slice >= 0 ? std::min(slice, nz - 1) : nz / 2;
  return std::vector<double>(field.begin() + k * nx * ny, field.begin() + (k + 1) * nx * ny);
}

void write_png_frame(const State& s, const std::string& prefix) {
  const std::vector<double> global = s.gather();
  if (!s.comm->root()) return;
  const Grid& g = s.problem->grid;
  std::vector<std::int64_t> shape;
  for (int a = g.dim - 1; a >= 0; --a)
    shape.push_back(g.n[a]);
  std::int64_t nx = 0, ny = 0;
  const auto plane = image_plane(global, shape, -1, nx, ny);
  write_heatmap_png(png_frame_path(prefix, s.step), plane, nx, ny,
                    "step " + std::to_string(s.step));
}

std::string png_frame_path(const std::string& prefix, std::int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "_%08lld.png", static_cast<long long>(step));
  return prefix + name;
}

namespace {

class PngOutput final : public Output {
 public:
  explicit PngOutput(std::string prefix) : prefix_(std::move(prefix)) {}
  void write(const State& s) override {
    write_png_frame(s, prefix_);
    last_ = png_frame_path(prefix_, s.step);
  }
  [[nodiscard]] std::string describe() const override { return "PNG frames " + prefix_ + "_*.png"; }
  [[nodiscard]] std::string last_path() const override { return last_; }

 private:
  std::string prefix_, last_;
};

}  // namespace

std::unique_ptr<Output> make_png_output(const std::string& prefix) {
  return std::make_unique<PngOutput>(prefix);
}

std::string image_library() {
  return std::string("libpng ") + png_get_libpng_ver(nullptr);
}

}  // namespace calor
