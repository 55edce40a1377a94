#include "calor/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <toml++/toml.h>

#include "calor/backend.hpp"
#include "calor/error.hpp"
#include "calor/npy.hpp"
#include "calor/output.hpp"

namespace calor {

namespace {

// ---------------------------------------------------------------------------------------------
// Presets

// Inserts `value` at `key` of `t` unless the user already set it.
template <class V>
void default_to(toml::table& t, std::string_view key, V&& value) {
  if (!t.contains(key)) t.insert(key, std::forward<V>(value));
}

toml::table& subtable(toml::table& t, std::string_view key) {
  if (!t.contains(key)) t.insert(key, toml::table{});
  auto* sub = t[key].as_table();
  if (sub == nullptr) throw Error("key '" + std::string(key) + "' must be a table");
  return *sub;
}

void preset_stencil(toml::table& t) {
  default_to(t, "dim", 2);
  default_to(t, "n", 4800);
  default_to(t, "h", 1.0);
  default_to(t, "alpha", 1.0);
  default_to(t, "dt", 0.125);  // r = alpha dt / h^2 = 1/8 per axis: 0.5*(u + 0.25*sum)
  default_to(t, "steps", 500);
  default_to(t, "form", "factored");
  default_to(t, "energy", 1.0);
  default_to(subtable(t, "boundary"), "all", "dirichlet");
}

void preset_diffusion1d(toml::table& t) {
  default_to(t, "dim", 1);
  default_to(t, "n", 100000);
  default_to(t, "h", 1.0);
  default_to(t, "alpha", 0.1);  // kappa = 0.1 with dx = dt = 1: r = 0.1
  default_to(t, "dt", 1.0);
  default_to(t, "steps", 2000);
  default_to(subtable(t, "boundary"), "all", "dirichlet");
  auto& init = subtable(t, "initial");
  default_to(init, "type", "gaussian");
  default_to(init, "width", std::sqrt(50000.0));  // exp(-x^2 / 100000)
  default_to(init, "amplitude", 1.0);
}

// A Gaussian bump of width L/20 in the middle of a periodic unit domain: h = 1/n.
void preset_gaussian(toml::table& t, int dim, int n) {
  default_to(t, "dim", dim);
  default_to(t, "n", n);
  if (!t.contains("h")) {
    const auto* nn = t["n"].as_integer();
    if (nn != nullptr && nn->get() > 0) t.insert("h", 1.0 / static_cast<double>(nn->get()));
  }
  default_to(t, "alpha", 1.0);
  default_to(t, "steps", 200);
  default_to(subtable(t, "boundary"), "all", "periodic");
  auto& init = subtable(t, "initial");
  default_to(init, "type", "gaussian");
  default_to(init, "width", 0.05);
  default_to(init, "amplitude", 1.0);
}

struct PresetDef {
  PresetInfo info;
  void (*apply)(toml::table&);
};

const std::vector<PresetDef>& preset_defs() {
  static const std::vector<PresetDef> defs = {
      {{"stencil",
        "the comparison study: 2D, N=4800, Dirichlet 0, three point sources, 500 steps, "
        "r=1/8; heat = 3*energy*steps"},
       preset_stencil},
      {{"diffusion1d",
        "the 1D teaching example: n=100000, dx=1, kappa=0.1, Gaussian exp(-x^2/1e5), 2000 steps, "
        "fixed ends"},
       preset_diffusion1d},
      {{"gaussian2d",
        "a Gaussian bump on a periodic unit square, n=128; checked against the exact "
        "solution"},
       [](toml::table& t) { preset_gaussian(t, 2, 128); }},
      {{"gaussian3d",
        "a Gaussian bump on a periodic unit cube, n=64; checked against the exact "
        "solution"},
       [](toml::table& t) { preset_gaussian(t, 3, 64); }},
  };
  return defs;
}

// ---------------------------------------------------------------------------------------------
// Strict reading

// At most about 60 characters of user input, for an error message: a 4 KiB value or an
// 8 KiB dotted key is named by its start and its length.
std::string excerpt(std::string_view s) {
  if (s.size() <= 60) return std::string(s);
  return std::string(s.substr(0, 50)) + "... (" + std::to_string(s.size()) + " characters)";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A value as TOML-like text for messages. Written here rather than with toml++'s formatter,
// which converts log10 of a float below 1 to size_t (undefined behaviour; found by fuzzing).
void render_to(std::string& out, const toml::node& n, std::size_t limit = 64) {
  if (out.size() > limit) return;
  if (const auto* a = n.as_array()) {
    out += '[';
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i) out += ", ";
      render_to(out, *a->get(i), limit);
    }
    out += ']';
  } else if (const auto* t = n.as_table()) {
    out += "{ ";
    bool first = true;
    for (const auto& [k, v] : *t) {
      if (!first) out += ", ";
      first = false;
      out += std::string(k.str()) + " = ";
      render_to(out, v, limit);
    }
    out += " }";
  } else if (const auto* str = n.as_string()) {
    out += '"';
    for (const char c : str->get()) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {  // as TOML escapes it
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
        out += buf;
      } else {
        out += c;
      }
    }
    out += '"';
  } else if (const auto* i = n.as_integer()) {
    out += std::to_string(i->get());
  } else if (const auto* d = n.as_floating_point()) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d->get());  // shortest exact text
    std::string text(buf, r.ptr);
    if (text.find_first_of(".eni") == std::string::npos) text += ".0";
    out += text;
  } else if (const auto* b = n.as_boolean()) {
    out += b->get() ? "true" : "false";
  } else {
    std::ostringstream os;  // dates and times
    n.visit([&](const auto& v) { os << v; });
    out += os.str();
  }
}

std::string render(const toml::node& n) {
  std::string s;
  render_to(s, n);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

// The names in config_keys(): the keys the reader accepts, and suggests for a misspelt one.
const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& k : config_keys())
      v.push_back(k.name);
    return v;
  }();
  return names;
}

// Whether config_keys() lists `path`, or the table-valued key it is inside (boundary.x.type).
bool listed(const std::string& path) {
  const auto& keys = config_keys();
  const auto named = [&](std::string_view name) {
    return std::find_if(keys.begin(), keys.end(),
                        [&](const ConfigKey& k) { return k.name == name; });
  };
  if (named(path) != keys.end()) return true;
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return false;
  const auto parent = named(std::string_view(path).substr(0, dot));
  return parent != keys.end() && parent->type.find("table") != std::string::npos;
}

// Reads keys from the merged table, remembering which were used so that leftovers can be
// reported, and where each came from (file or flag) so that errors point at the right place.
class Reader {
 public:
  Reader(toml::table& t, std::map<std::string, std::string> origins, std::string source)
      : root_(t), origins_(std::move(origins)), source_(std::move(source)) {}

  const toml::node* find(const std::string& path) {
    // A key read here but missing from the table would be accepted yet undocumented.
    if (!listed(path))
      throw std::logic_error("load_config reads key '" + path +
                             "', which config_keys() (src/config/keys.cpp) does not list");
    used_.insert(path);
    return root_.at_path(path).node();
  }

  std::string where(const std::string& path) const {
    auto it = origins_.find(path);
    if (it != origins_.end()) return it->second;
    // A key inside an overridden table inherits its origin.
    for (const auto& [k, v] : origins_)
      if (path.rfind(k + ".", 0) == 0) return v;
    return source_;
  }

  [[noreturn]] void wrong(const std::string& path, const toml::node& n, const std::string& want) {
    throw Error("key '" + path + "' (" + where(path) + "): expected " + want + ", got " +
                type_name(n) + " " + render(n));
  }

  std::optional<double> number(const std::string& path) {
    const toml::node* n = find(path);
    if (n == nullptr) return std::nullopt;
    return as_number(path, *n);
  }
  double as_number(const std::string& path, const toml::node& n) {
    if (auto f = n.as_floating_point()) return f->get();
    if (auto i = n.as_integer()) return static_cast<double>(i->get());
    wrong(path, n, "a number");
  }
  std::optional<std::int64_t> integer(const std::string& path) {
    const toml::node* n = find(path);
    if (n == nullptr) return std::nullopt;
    return as_integer(path, *n);
  }
  std::int64_t as_integer(const std::string& path, const toml::node& n) {
    if (auto i = n.as_integer()) return i->get();
    wrong(path, n, "an integer");
  }
  std::optional<bool> boolean(const std::string& path) {
    const toml::node* n = find(path);
    if (n == nullptr) return std::nullopt;
    if (auto b = n->as_boolean()) return b->get();
    wrong(path, *n, "true or false");
  }
  std::optional<std::string> string(const std::string& path) {
    const toml::node* n = find(path);
    if (n == nullptr) return std::nullopt;
    if (auto s = n->as_string()) return s->get();
    wrong(path, *n, "a string");
  }
  /// A string that must be one of `choices`.
  std::optional<std::string> choice(const std::string& path,
                                    const std::vector<std::string>& choices) {
    auto s = string(path);
    if (s && std::find(choices.begin(), choices.end(), *s) == choices.end()) {
      std::string list;
      for (const auto& c : choices)
        list += (list.empty() ? "" : ", ") + c;
      throw Error("key '" + path + "' (" + where(path) + "): unknown value \"" + excerpt(*s) +
                  "\"; choose one of " + list);
    }
    return s;
  }
  /// A number or an array of `count` numbers, broadcast to `count` values.
  template <class T>
  std::optional<std::vector<T>> per_axis(const std::string& path, int count) {
    const toml::node* n = find(path);
    if (n == nullptr) return std::nullopt;
    const std::string want = std::string(std::is_integral_v<T> ? "an integer" : "a number") +
                             " or an array of " + std::to_string(count) +
                             (std::is_integral_v<T> ? " integers" : " numbers");
    auto one = [&](const toml::node& x) -> T {
      if constexpr (std::is_integral_v<T>) {
        if (!x.is_integer()) wrong(path, *n, want);
        return static_cast<T>(x.as_integer()->get());
      } else {
        if (!x.is_number()) wrong(path, *n, want);
        return as_number(path, x);
      }
    };
    if (auto a = n->as_array()) {
      if (static_cast<int>(a->size()) != count)
        throw Error("key '" + path + "' (" + where(path) + "): expected " + std::to_string(count) +
                    " values (one per axis), got " + std::to_string(a->size()) + ": " + render(*n));
      std::vector<T> v;
      for (const auto& x : *a)
        v.push_back(one(x));
      return v;
    }
    return std::vector<T>(static_cast<std::size_t>(count), one(*n));
  }

  /// Throws for the first key that no reader asked for, suggesting the nearest known key.
  void reject_unused(const std::vector<std::string>& known) {
    std::vector<std::string> leftovers;
    collect(root_, "", leftovers);
    if (leftovers.empty()) return;
    const std::string& key = leftovers.front();
    const std::string best = nearest_name(key, known);
    std::string msg = "unknown key '" + excerpt(key) + "' (" + where(key) + ")";
    if (!best.empty()) msg += "; did you mean '" + best + "'?";
    if (leftovers.size() > 1) {
      msg += " Also unknown:";
      for (std::size_t i = 1; i < std::min<std::size_t>(leftovers.size(), 10); ++i)
        msg += " '" + excerpt(leftovers[i]) + "'";
      if (leftovers.size() > 10) msg += " and " + std::to_string(leftovers.size() - 10) + " more";
    }
    throw Error(msg + (msg.back() == '?' ? "" : ".") + " See `calor run --help` for the keys.");
  }

 private:
  void collect(const toml::table& t, const std::string& prefix, std::vector<std::string>& out) {
    for (const auto& [k, v] : t) {
      const std::string path = prefix + std::string(k.str());
      if (auto sub = v.as_table())
        collect(*sub, path + ".", out);  // tables are checked key by key
      else if (!used_.count(path))
        out.push_back(path);
    }
  }

  toml::table& root_;
  std::map<std::string, std::string> origins_;
  std::string source_;
  std::set<std::string> used_;
};

// A number, or a time table [[t0, v0], [t1, v1], ...] (the number is then the value at t0).
std::pair<double, TimeTable> read_timed(Reader& r, const std::string& path, const toml::node& n) {
  const auto* arr = n.as_array();
  if (arr == nullptr) return {r.as_number(path, n), {}};
  const std::string want = "a number or a time table [[t0, v0], [t1, v1], ...]";
  TimeTable t;
  for (const auto& point : *arr) {
    const auto* pair = point.as_array();
    if (pair == nullptr || pair->size() != 2) r.wrong(path, n, want);
    t.points.emplace_back(r.as_number(path, (*pair)[0]), r.as_number(path, (*pair)[1]));
  }
  if (t.points.empty()) r.wrong(path, n, want);
  t.validate("key '" + path + "' (" + r.where(path) + ")");
  return {t.points.front().second, t};
}

Boundary read_boundary(Reader& r, const std::string& path, const toml::node& n) {
  const std::vector<std::string> kinds = {"dirichlet", "neumann", "periodic", "robin"};
  auto kind_of = [&](const std::string& s) {
    if (s == "dirichlet") return BoundaryKind::dirichlet;
    if (s == "neumann") return BoundaryKind::neumann;
    if (s == "periodic") return BoundaryKind::periodic;
    if (s == "robin")
      throw Error("key '" + path + "' (" + r.where(path) +
                  "): a robin face needs its coefficient and ambient temperature: {type = "
                  "\"robin\", h = 10.0, ambient = 20.0}");
    throw Error("key '" + path + "' (" + r.where(path) + "): unknown boundary \"" + s +
                "\"; choose dirichlet, neumann, periodic or robin");
  };
  if (auto s = n.as_string()) return Boundary{kind_of(s->get()), 0.0, 0.0, {}};
  if (n.is_table()) {
    auto type = r.choice(path + ".type", kinds);
    if (!type)
      throw Error("key '" + path + "' (" + r.where(path) +
                  "): needs type = \"dirichlet\", \"neumann\", \"periodic\" or \"robin\"");
    Boundary b;
    b.kind = *type == "robin" ? BoundaryKind::robin : kind_of(*type);
    const char* value_key = b.kind == BoundaryKind::dirichlet ? "value"
                            : b.kind == BoundaryKind::neumann ? "gradient"
                                                              : "ambient";
    if (b.kind != BoundaryKind::periodic) {
      const std::string vpath = path + "." + value_key;
      if (const toml::node* v = r.find(vpath))
        std::tie(b.value, b.table) = read_timed(r, vpath, *v);
    }
    if (b.kind == BoundaryKind::robin) {
      const auto h = r.number(path + ".h");
      if (!h)
        throw Error("key '" + path + "' (" + r.where(path) +
                    "): a robin face needs h, its heat transfer coefficient: {type = \"robin\", "
                    "h = 10.0, ambient = 20.0}");
      b.coefficient = *h;
    }
    return b;
  }
  r.wrong(path, n, "\"dirichlet\", \"neumann\", \"periodic\" or a table {type = ..., value = ...}");
}

// The coordinates of an array key with one number per axis.
std::array<double, 3> read_point(Reader& r, const std::string& path, int dim) {
  std::array<double, 3> p{0, 0, 0};
  const auto v = r.per_axis<double>(path, dim);
  if (!v) throw Error("key '" + path + "' is required here (one coordinate per axis)");
  for (int a = 0; a < dim; ++a)
    p[a] = (*v)[static_cast<std::size_t>(a)];
  return p;
}

std::vector<double> read_numbers(Reader& r, const std::string& path) {
  const toml::node* n = r.find(path);
  if (n == nullptr) throw Error("key '" + path + "' is required here (an array of numbers)");
  const auto* arr = n->as_array();
  if (arr == nullptr) r.wrong(path, *n, "an array of numbers");
  std::vector<double> v;
  for (const auto& x : *arr)
    v.push_back(r.as_number(path, x));
  return v;
}

// The array of a .npy file or an HDF5 dataset, checked against the grid's shape.
std::shared_ptr<const std::vector<double>> read_cell_array(const std::string& key,
                                                           const std::string& path,
                                                           const std::string& dataset,
                                                           const Grid& g) {
  std::vector<std::int64_t> shape;
  auto data = std::make_shared<std::vector<double>>();
  if (dataset.empty()) {
    NpyArray a = load_npy(path);
    shape = a.shape;
    *data = std::move(a.data);
  } else {
    *data = read_dataset(path, dataset, shape);
  }
  if (shape != numpy_shape(g))
    throw Error(key + ": '" + path + "'" + (dataset.empty() ? "" : " dataset '" + dataset + "'") +
                " has shape " + shape_text(shape) + ", but the grid needs " +
                shape_text(numpy_shape(g)) + " (NumPy order: z, y, x)");
  return data;
}

// A cell field under `prefix` (diffusivity or sources.field): `array` if given, else from its
// table if its type is given.
CellValues read_cell_values(Reader& r, const std::string& prefix, const Grid& g,
                            const std::shared_ptr<const std::vector<double>>& array) {
  CellValues v;
  if (array) {
    if (r.find(prefix + ".type") != nullptr)
      throw Error("key '" + prefix + ".type' (" + r.where(prefix + ".type") +
                  ") and an array for " + prefix + " are both given: give one");
    v.kind = CellValuesKind::array;
    v.data = array;
    v.validate(prefix, g);
    return v;
  }
  const auto type = r.choice(prefix + ".type", {"npy", "hdf5", "layers", "box", "sphere"});
  const std::vector<std::pair<const char*, std::vector<std::string>>> owners = {
      {"path", {"npy", "hdf5"}}, {"dataset", {"hdf5"}},
      {"axis", {"layers"}},      {"bounds", {"layers"}},
      {"values", {"layers"}},    {"lo", {"box"}},
      {"hi", {"box"}},           {"centre", {"sphere"}},
      {"radius", {"sphere"}},    {"inside", {"box", "sphere"}}};
  for (const auto& [key, types] : owners) {
    const std::string path = prefix + "." + key;
    if (r.find(path) == nullptr) continue;
    if (!type || std::find(types.begin(), types.end(), *type) == types.end())
      throw Error("key '" + path + "' (" + r.where(path) + ") does not apply to " +
                  (type ? prefix + ".type = \"" + *type + "\"" : "a missing " + prefix + ".type") +
                  "; it belongs to type \"" + types.front() + "\"");
  }
  if (!type) return v;
  if (*type == "npy" || *type == "hdf5") {
    v.kind = CellValuesKind::array;
    v.source = r.string(prefix + ".path").value_or("");
    if (v.source.empty())
      throw Error("key '" + prefix + ".path' is required for " + prefix + ".type = \"" + *type +
                  "\": the file to read");
    v.dataset = *type == "hdf5" ? r.string(prefix + ".dataset").value_or("") : "";
    if (*type == "hdf5" && v.dataset.empty())
      throw Error("key '" + prefix + ".dataset' is required for " + prefix +
                  ".type = \"hdf5\": the dataset to read, e.g. \"/alpha\"");
    v.data = read_cell_array(prefix, v.source, v.dataset, g);
  } else if (*type == "layers") {
    v.kind = CellValuesKind::layers;
    const auto axis = r.choice(prefix + ".axis", {"x", "y", "z"}).value_or("x");
    v.axis = axis == "x" ? 0 : axis == "y" ? 1 : 2;
    v.bounds = read_numbers(r, prefix + ".bounds");
    v.values = read_numbers(r, prefix + ".values");
  } else {
    v.kind = *type == "box" ? CellValuesKind::box : CellValuesKind::sphere;
    if (v.kind == CellValuesKind::box) {
      v.lo = read_point(r, prefix + ".lo", g.dim);
      v.hi = read_point(r, prefix + ".hi", g.dim);
    } else {
      v.centre = read_point(r, prefix + ".centre", g.dim);
      const auto radius = r.number(prefix + ".radius");
      if (!radius) throw Error("key '" + prefix + ".radius' is required for a sphere");
      v.radius = *radius;
    }
    const auto inside = r.number(prefix + ".inside");
    if (!inside)
      throw Error("key '" + prefix + ".inside' is required for a " + *type +
                  ": the value inside it");
    v.inside = *inside;
  }
  v.validate(prefix, g);
  return v;
}

Boundaries read_boundaries(Reader& r) {
  Boundaries bc = Boundaries::all(Boundary{});
  auto apply = [&](const std::string& key, auto&& set) {
    const std::string path = "boundary." + key;
    if (const toml::node* n = r.find(path)) set(read_boundary(r, path, *n));
  };
  apply("all", [&](Boundary b) { bc = Boundaries::all(b); });
  const char* axes[] = {"x", "y", "z"};
  for (int a = 0; a < 3; ++a)
    apply(axes[a], [&](Boundary b) { bc.face[a] = {b, b}; });
  for (int a = 0; a < 3; ++a)
    for (int s = 0; s < 2; ++s)
      apply(face_name(a, s), [&](Boundary b) { bc.face[a][s] = b; });
  return bc;
}

std::vector<PointSource> read_points(Reader& r, int dim) {
  std::vector<PointSource> pts;
  const toml::node* n = r.find("sources.points");
  if (n == nullptr) return pts;
  const auto* arr = n->as_array();
  if (arr == nullptr) r.wrong("sources.points", *n, "an array of tables {at = [i, j], energy = e}");
  for (std::size_t s = 0; s < arr->size(); ++s) {
    const std::string path = "sources.points[" + std::to_string(s) + "]";
    const auto* t = (*arr)[s].as_table();
    if (t == nullptr) r.wrong(path, (*arr)[s], "a table {at = [i, j], energy = e}");
    PointSource p;
    for (const auto& [k, v] : *t) {
      if (k == "energy") {
        std::tie(p.energy, p.table) = read_timed(r, path + ".energy", v);
      } else if (k == "at") {
        const auto* at = v.as_array();
        if (at == nullptr || static_cast<int>(at->size()) != dim)
          r.wrong(path + ".at", v, "an array of " + std::to_string(dim) + " 0-based cell indices");
        for (int a = 0; a < dim; ++a)
          p.at[a] = r.as_integer(path + ".at", (*at)[a]);
      } else {
        throw Error("unknown key '" + path + "." + std::string(k.str()) + "' (" + r.where(path) +
                    "): a point source has 'at' and 'energy'");
      }
    }
    if (!t->contains("at")) throw Error("key '" + path + "' (" + r.where(path) + "): missing 'at'");
    pts.push_back(p);
  }
  return pts;
}

Initial read_initial(Reader& r, const Grid& g) {
  Initial in;
  const auto type =
      r.choice("initial.type", {"zero", "constant", "gaussian", "npy"}).value_or("zero");
  // Keys that belong to another type are errors, not silently ignored.
  auto only = [&](const char* key, const char* owner) {
    if (type != owner && r.find(std::string("initial.") + key) != nullptr)
      throw Error("key 'initial." + std::string(key) + "' (" +
                  r.where(std::string("initial.") + key) + ") applies only to initial.type = \"" +
                  owner + "\", but the type is \"" + type + "\"");
  };
  only("value", "constant");
  for (const char* k : {"centre", "width", "amplitude"})
    only(k, "gaussian");
  only("path", "npy");
  if (type == "constant") {
    in.kind = InitialKind::constant;
    in.value = r.number("initial.value").value_or(0.0);
  } else if (type == "gaussian") {
    in.kind = InitialKind::gaussian;
    for (int a = 0; a < g.dim; ++a)  // default: the middle of the domain
      in.centre[a] = 0.5 * static_cast<double>(g.n[a] + 1) * g.h[a];
    if (auto c = r.per_axis<double>("initial.centre", g.dim))
      for (int a = 0; a < g.dim; ++a)
        in.centre[a] = (*c)[a];
    in.width = r.number("initial.width").value_or(in.width);
    in.amplitude = r.number("initial.amplitude").value_or(in.amplitude);
  } else if (type == "npy") {
    in.kind = InitialKind::npy;
    in.path = r.string("initial.path").value_or("");
  }
  return in;
}

// Merges `src` into `dst`: tables merge key by key, anything else replaces.
void merge(toml::table& dst, const toml::table& src) {
  for (const auto& [k, v] : src) {
    auto* d = dst[k].as_table();
    if (d != nullptr && v.is_table())
      merge(*d, *v.as_table());
    else
      dst.insert_or_assign(k, v);
  }
}

// toml++ 3.3 (Debian 12) reaches __builtin_unreachable for some non-ASCII code points (upstream
// issues #190 and #295; our fuzzer found it too). So the parser only ever sees ASCII: non-ASCII
// text in basic strings becomes \uXXXX escapes (the same string), in comments '?', and anywhere
// else it is an error, as is malformed UTF-8. Even where this scan misreads malformed TOML, the
// parser gets pure ASCII and reports the error itself.
//
// The scan copies the text character by character, tracking whether each is in code, a comment
// or one of TOML's four kinds of string, and where it is (line and column) for messages.
class AsciiScan {
 public:
  AsciiScan(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  std::string run() {
    if (text_.size() > kMaxInput)
      throw Error(source_ + " is " + std::to_string(text_.size()) +
                  " bytes; a configuration may be at most " + std::to_string(kMaxInput) +
                  " bytes (put large data, such as an initial field, in a .npy file)");
    out_.reserve(text_.size());
    for (i_ = 0; i_ < text_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(text_[i_]);
      ++col_;
      if (c >= 0x80)
        copy_non_ascii(c);
      else
        copy_ascii(c);
      check_bounds(c);
    }
    return std::move(out_);
  }

 private:
  enum class In { code, comment, basic, literal, ml_basic, ml_literal };

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("malformed TOML in " + source_ + " at line " + std::to_string(line_) + ", column " +
                std::to_string(col_) + ": " + what);
  }

  // Whether the text at the current position starts with `s`.
  [[nodiscard]] bool at(std::string_view s) const { return text_.substr(i_, s.size()) == s; }

  // Whether the character after the current one exists and is ASCII.
  [[nodiscard]] bool ascii_follows() const {
    return i_ + 1 < text_.size() && static_cast<unsigned char>(text_[i_ + 1]) < 0x80;
  }

  // Copies the character after the current one unread (an escaped character) and moves past it.
  void copy_next() {
    out_ += text_[++i_];
    ++col_;
  }

  // At the first of three quotes: copies the other two and moves past them.
  void copy_triple_quote(const char* rest) {
    out_ += rest;
    i_ += 2;
    col_ += 2;
  }

  // Decodes the UTF-8 sequence that starts with `c` at the current position, of `len` bytes.
  char32_t decode_utf8(unsigned char c, int& len) const {
    len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (len == 0 || i_ + static_cast<std::size_t>(len) > text_.size()) fail("invalid UTF-8");
    char32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text_[i_ + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      fail("invalid UTF-8");
    return cp;
  }

  // One non-ASCII character: '?' in a comment, a \u escape in a basic string, else an Error.
  void copy_non_ascii(unsigned char c) {
    int len = 0;
    const char32_t cp = decode_utf8(c, len);
    char buf[16];
    if (in_ == In::comment) {
      out_ += '?';
    } else if (in_ == In::basic || in_ == In::ml_basic) {
      std::snprintf(buf, sizeof buf, cp > 0xFFFF ? "\\U%08X" : "\\u%04X",
                    static_cast<unsigned>(cp));
      out_ += buf;
    } else {
      std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
      fail(std::string("non-ASCII character ") + buf +
           (in_ == In::code ? " outside a string or comment"
                            : " in a 'literal' string; use a \"basic\" string"));
    }
    i_ += static_cast<std::size_t>(len - 1);
  }

  // One ASCII character: copied as it is, and it may open or close a comment or string.
  void copy_ascii(unsigned char c) {
    out_ += static_cast<char>(c);
    if (c == '\n') {
      ++line_;
      col_ = 0;
      if (in_ == In::comment || in_ == In::basic || in_ == In::literal) in_ = In::code;
      return;
    }
    switch (in_) {
      case In::code:
        in_code(c);
        break;
      case In::basic:
        if (c == '\\' && ascii_follows())
          copy_next();
        else if (c == '"')
          in_ = In::code;
        break;
      case In::literal:
        if (c == '\'') in_ = In::code;
        break;
      case In::ml_basic:
        in_ml_basic(c);
        break;
      case In::ml_literal:
        if (at("'''")) {
          in_ = In::code;
          copy_triple_quote("''");
        }
        break;
      case In::comment:
        break;
    }
  }

  // Outside strings and comments: '#' opens a comment, quotes open a string.
  void in_code(unsigned char c) {
    if (c == '#') {
      in_ = In::comment;
    } else if (at("\"\"\"")) {
      in_ = In::ml_basic;
      copy_triple_quote("\"\"");
    } else if (at("'''")) {
      in_ = In::ml_literal;
      copy_triple_quote("''");
    } else if (c == '"') {
      in_ = In::basic;
    } else if (c == '\'') {
      in_ = In::literal;
    }
  }

  // Inside a """ string: a backslash escapes, and """ closes it.
  void in_ml_basic(unsigned char c) {
    if (c == '\\') {
      // A line-ending backslash (the parser trims the whitespace after it, newlines included)
      // escapes nothing; any other escapes the next character.
      std::size_t j = i_ + 1;
      while (j < text_.size() && (text_[j] == ' ' || text_[j] == '\t' || text_[j] == '\r'))
        ++j;
      const bool line_ending = j < text_.size() && text_[j] == '\n';
      if (!line_ending && ascii_follows()) copy_next();
    } else if (at("\"\"\"")) {
      in_ = In::code;
      copy_triple_quote("\"\"");
    }
  }

  // Bounds checked before the parser sees the text: toml++ recurses once per level of a dotted
  // key (a.a.a... thousands deep overflowed the stack), and a configuration has no use for
  // deep nesting or for very long keys and values.
  static constexpr std::size_t kMaxInput = 16u << 20;  // bytes in the whole text
  static constexpr int kMaxDots = 32;                  // levels of one dotted key
  static constexpr int kMaxBrackets = 64;              // nested [ and { in code
  static constexpr std::size_t kMaxBare = 256;         // a bare key or value
  static constexpr std::size_t kMaxString = 4096;      // a string, e.g. a path (PATH_MAX)

  // Updates the nesting and length counters after character `c`; an Error past a bound.
  void check_bounds(unsigned char c) {
    if (in_ != In::code) {
      bare_ = 0;
      // The string's own quotes are counted too; a comment is not a string.
      if (in_ != In::comment && ++string_ > kMaxString)
        fail("a string longer than " + std::to_string(kMaxString) + " characters");
      return;
    }
    string_ = 0;
    if (c == '.') {
      if (++dots_ > kMaxDots)
        fail("a dotted key deeper than " + std::to_string(kMaxDots) + " levels");
    } else if (c == '=' || c == ',' || c == '\n') {
      dots_ = 0;
    } else if (c == '[' || c == '{') {
      dots_ = 0;
      if (++brackets_ > kMaxBrackets)
        fail("brackets or braces nested deeper than " + std::to_string(kMaxBrackets) + " levels");
    } else if (c == ']' || c == '}') {
      dots_ = 0;
      if (brackets_ > 0) --brackets_;
    }
    const bool in_token = std::isalnum(c) != 0 || c == '_' || c == '-' || c == '+' || c == ':';
    bare_ = in_token ? bare_ + 1 : 0;
    if (bare_ > kMaxBare)
      fail("a bare key or value longer than " + std::to_string(kMaxBare) + " characters");
  }

  std::string_view text_;
  const std::string& source_;
  std::string out_;
  std::size_t i_ = 0;  // the current position in text_
  In in_ = In::code;
  int line_ = 1, col_ = 0;
  int dots_ = 0, brackets_ = 0;        // see check_bounds
  std::size_t bare_ = 0, string_ = 0;  // lengths of the current token or string
};

// `text` as pure ASCII for toml++; malformed UTF-8 or misplaced non-ASCII is an Error.
std::string ascii_toml(std::string_view text, const std::string& source) {
  return AsciiScan(text, source).run();
}

toml::table parse_toml(std::string_view text, const std::string& source) {
  const std::string ascii = ascii_toml(text, source);
  try {
    return toml::parse(ascii, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw Error("malformed TOML in " + source + " at line " + std::to_string(b.line) + ", column " +
                std::to_string(b.column) + ": " + std::string(e.description()));
  }
}

toml::table parse_override(const Override& o) {
  std::string value = o.value;
  // "480,320" -> [480, 320]
  if (!value.empty() && value.find(',') != std::string::npos && value.front() != '[' &&
      value.front() != '"' && value.front() != '{')
    value = "[" + value + "]";
  try {
    return toml::parse(ascii_toml(o.key + " = " + value, o.origin), o.origin);
  } catch (const toml::parse_error&) {
  } catch (const Error&) {
  }
  // A bare word: take it as a string.
  std::string quoted = "\"";
  for (char c : o.value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  try {
    return toml::parse(ascii_toml(o.key + " = " + quoted, o.origin), o.origin);
  } catch (const toml::parse_error& e) {
    throw Error("cannot use " + o.origin + " " + excerpt(o.key + "=" + o.value) + ": " +
                std::string(e.description()));
  }
}

void record_origins(const toml::table& t, const std::string& prefix, const std::string& origin,
                    std::map<std::string, std::string>& origins) {
  for (const auto& [k, v] : t) {
    const std::string path = prefix + std::string(k.str());
    if (auto sub = v.as_table())
      record_origins(*sub, path + ".", origin, origins);
    else
      origins[path] = origin;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a configuration: load_config's parts, in the order it calls them

// The TOML text with the overrides merged on top, recording in `origins` which flag set each
// overridden key.
toml::table merged_table(std::string_view toml_text, const std::string& source,
                         const std::vector<Override>& overrides,
                         std::map<std::string, std::string>& origins) {
  toml::table t = parse_toml(toml_text, source);
  for (const Override& o : overrides) {
    const toml::table ot = parse_override(o);
    record_origins(ot, "", o.origin, origins);
    merge(t, ot);
  }
  return t;
}

// Fills in from the preset named by the `preset` key every key the user left out, and returns
// the preset's name ("custom" for none).
std::string apply_preset(toml::table& t) {
  std::string preset = "custom";
  if (const auto* p = t.get("preset")) {
    if (!p->is_string())
      throw Error("key 'preset': expected a string, got " + type_name(*p) + " " + render(*p));
    preset = p->as_string()->get();
  }
  if (preset == "none") preset = "custom";  // `--preset none`: only the file and flags count
  if (preset == "custom") return preset;
  auto it = std::find_if(preset_defs().begin(), preset_defs().end(),
                         [&](const PresetDef& d) { return d.info.name == preset; });
  if (it == preset_defs().end()) {
    std::string list;
    for (const auto& d : preset_defs())
      list += (list.empty() ? "" : ", ") + d.info.name;
    throw Error("unknown preset '" + preset + "': choose one of " + list + " (or none)");
  }
  it->apply(t);
  return preset;
}

// dim, n and h.
Grid read_grid(Reader& r) {
  Grid g;
  const auto dim = r.integer("dim").value_or(2);
  if (dim < 1 || dim > 3)
    throw Error("key 'dim' (" + r.where("dim") + "): " + std::to_string(dim) +
                " is out of range; must be 1, 2 or 3");
  g.dim = static_cast<int>(dim);
  const auto n = r.per_axis<std::int64_t>("n", g.dim);
  if (!n) throw Error("key 'n' is missing: give the grid size (e.g. --n 480) or a --preset");
  for (int a = 0; a < g.dim; ++a) {
    if ((*n)[a] < 1)
      throw Error("key 'n' (" + r.where("n") + "): " + std::to_string((*n)[a]) +
                  " is not a valid grid size; sizes must be positive integers");
    g.n[a] = (*n)[a];
  }
  if (auto h = r.per_axis<double>("h", g.dim))
    for (int a = 0; a < g.dim; ++a)
      g.h[a] = (*h)[a];
  return g;
}

// alpha, steps, form, allow_unstable and dt, which defaults to half the stable limit.
void read_time_stepping(Reader& r, Problem& p) {
  p.alpha = r.number("alpha").value_or(1.0);
  p.steps = r.integer("steps").value_or(100);
  const auto form = r.choice("form", {"expanded", "factored"}).value_or("expanded");
  p.form = form == "factored" ? StencilForm::factored : StencilForm::expanded;
  p.allow_unstable = r.boolean("allow_unstable").value_or(false);
  p.dt = r.number("dt").value_or(0.0);
  if (p.dt == 0.0 && r.find("dt") == nullptr) {
    // No dt given: half the stable limit. Check alpha and h first so the default is meaningful.
    bool ok = p.alpha > 0;
    for (int a = 0; a < p.grid.dim; ++a)
      ok = ok && p.grid.h[a] > 0;
    if (ok) p.dt = p.default_dt();
  }
}

// The volumetric source and the point sources: [[sources.points]], or the case study's three
// when the stencil preset's `energy` is set.
Sources read_sources(Reader& r, const Problem& p, const std::string& preset,
                     const CellArrays& arrays) {
  Sources s;
  s.volumetric = r.number("sources.volumetric").value_or(0.0);
  s.points = read_points(r, p.grid.dim);
  s.field = read_cell_values(r, "sources.field", p.grid, arrays.heating);
  if (auto e = r.number("energy")) {
    if (preset != "stencil")
      throw Error("key 'energy' (" + r.where("energy") +
                  ") sets the case study's source strength and needs preset = \"stencil\"; for "
                  "other problems use [[sources.points]] with at and energy");
    if (p.grid.dim != 2 || p.grid.n[0] < 3 || p.grid.n[1] < 3)
      throw Error(
          "preset \"stencil\" is a 2D case of at least 3 x 3 cells (its sources sit at "
          "N/3 and N/2), got dim = " +
          std::to_string(p.grid.dim) + ", n = " + std::to_string(p.grid.n[0]) +
          (p.grid.dim > 1 ? " x " + std::to_string(p.grid.n[1]) : ""));
    if (r.find("sources.points") == nullptr)
      s.points = stencil_sources(p.grid.n[0], p.grid.n[1], *e);
  }
  return s;
}

// What to compute: the grid, time stepping, boundaries, sources and initial state.
Problem read_problem(Reader& r, const std::string& preset, const CellArrays& arrays) {
  Problem p;
  p.name = preset;
  p.grid = read_grid(r);
  // alpha(x) first: the default dt depends on its largest value.
  p.diffusivity = read_cell_values(r, "diffusivity", p.grid, arrays.diffusivity);
  if (r.choice("diffusivity.mean", {"harmonic", "arithmetic"}).value_or("harmonic") == "arithmetic")
    p.mean = FaceMean::arithmetic;
  read_time_stepping(r, p);
  p.boundaries = read_boundaries(r);
  p.sources = read_sources(r, p, preset, arrays);
  p.initial = read_initial(r, p.grid);
  return p;
}

// backend (checked later by check_backend), threads, tile_depth and tile_width.
void read_parallelism(Reader& r, RunSettings& rs) {
  rs.backend = r.string("backend").value_or("auto");
  const auto threads = r.integer("threads").value_or(0);
  if (threads < 0 || threads > 4096)
    throw Error("key 'threads' (" + r.where("threads") + "): " + std::to_string(threads) +
                " is out of range; use 0 (default) to 4096");
  rs.threads = static_cast<int>(threads);

  const auto depth = r.integer("tile_depth").value_or(0);
  if (depth < 0 || depth > 1024)
    throw Error("key 'tile_depth' (" + r.where("tile_depth") + "): " + std::to_string(depth) +
                " is out of range; use 0 (automatic) to 1024 steps per block");
  rs.tile_depth = static_cast<int>(depth);
  const auto width = r.integer("tile_width").value_or(0);
  if (width != 0 && (width < 2 || width > (std::int64_t{1} << 30)))
    throw Error(
        "key 'tile_width' (" + r.where("tile_width") + "): " + std::to_string(width) +
        " is out of range; use 0 (automatic) or 2 to 2^30 columns (2D) or y-rows (3D) per strip");
  rs.tile_width = static_cast<int>(width);
}

// An "every" key: a number of steps, or a duration such as "30s" or "5min".
Every read_every(Reader& r, const std::string& key) {
  Every e;
  const toml::node* node = r.find(key);
  if (node == nullptr) return e;
  if (auto i = node->as_integer()) {
    e.steps = i->get();
    if (e.steps < 1)
      throw Error("key '" + key + "' (" + r.where(key) + "): " + std::to_string(e.steps) +
                  " steps is out of range; use 1 or more, or a duration such as \"30s\"");
    return e;
  }
  if (auto s = node->as_string()) {
    char* end = nullptr;
    const std::string& v = s->get();
    const double x = std::strtod(v.c_str(), &end);
    const std::string unit = end != nullptr ? std::string(end) : "";
    const double scale = unit == "s" ? 1 : unit == "min" ? 60 : unit == "h" ? 3600 : 0;
    if (end == v.c_str() || scale == 0 || !(x > 0))
      throw Error("key '" + key + "' (" + r.where(key) + "): \"" + excerpt(v) +
                  "\" is not a step count or a duration such as \"30s\", \"5min\" or \"1h\"");
    e.seconds = x * scale;
    return e;
  }
  r.wrong(key, *node, "a number of steps or a duration such as \"30s\"");
}

// Snapshots, PNG frames, checkpoints and the health check, each with how often; an interval
// without its file is an error.
void read_outputs(Reader& r, RunSettings& rs) {
  rs.output = r.string("output.path").value_or("");
  rs.output_every = read_every(r, "output.every");
  rs.png = r.string("output.png").value_or("");
  rs.png_every = r.integer("output.png_every").value_or(0);
  rs.png_log = r.boolean("output.png_log").value_or(false);
  if (const auto range = r.per_axis<double>("output.png_range", 2)) {
    rs.png_lo = (*range)[0];
    rs.png_hi = (*range)[1];
    if (!(rs.png_lo < rs.png_hi) || !std::isfinite(rs.png_hi) || (rs.png_log && rs.png_lo <= 0))
      throw Error("key 'output.png_range' (" + r.where("output.png_range") + "): [" +
                  std::to_string(rs.png_lo) + ", " + std::to_string(rs.png_hi) +
                  "] is not a range: give [lo, hi] with lo < hi" +
                  (rs.png_log ? " and lo > 0 (output.png_log)" : ""));
  }
  rs.checkpoint = r.string("checkpoint.path").value_or("");
  rs.checkpoint_every = read_every(r, "checkpoint.every");
  rs.check_every = r.integer("check_every").value_or(100);
  if (rs.check_every < 0 || rs.png_every < 0)
    throw Error("keys 'check_every' and 'output.png_every' must be 0 or more steps");
  if (rs.output_every.set() && rs.output.empty())
    throw Error("key 'output.every' needs output.path (--output FILE.h5), the file to write");
  if (rs.checkpoint_every.set() && rs.checkpoint.empty())
    throw Error("key 'checkpoint.every' needs checkpoint.path (--checkpoint FILE.h5)");
  if (rs.png_every > 0 && rs.png.empty())
    throw Error("key 'output.png_every' needs output.png (--png PREFIX), the frame name prefix");
}

// The value named by the string at `key`, `fallback` if the key is absent. Any name not in
// `named` is an Error that lists the names in order.
template <class E>
E read_named(Reader& r, const std::string& key, E fallback,
             const std::vector<std::pair<std::string_view, E>>& named) {
  std::vector<std::string> names;
  for (const auto& entry : named)
    names.emplace_back(entry.first);
  const auto s = r.choice(key, names);
  if (!s) return fallback;
  const auto it = std::find_if(named.begin(), named.end(),
                               [&](const auto& entry) { return entry.first == *s; });
  return it->second;  // choice() accepted only the names listed
}

// The method and the spectral method's settings (spectral.*).
void read_method(Reader& r, RunSettings& rs) {
  rs.method = read_named(r, "method", MethodKind::stencil,
                         {{"stencil", MethodKind::stencil}, {"spectral", MethodKind::spectral}});
  rs.spectral_mode =
      read_named(r, "spectral.mode", SpectralMode::discrete,
                 {{"discrete", SpectralMode::discrete}, {"continuous", SpectralMode::continuous}});
  rs.fft_planning = read_named(r, "spectral.planning", FftPlanning::estimate,
                               {{"estimate", FftPlanning::estimate},
                                {"measure", FftPlanning::measure},
                                {"patient", FftPlanning::patient}});
  rs.fft_wisdom = r.string("spectral.wisdom").value_or("");
}

// Throws unless `backend` names a backend this build has.
void check_backend(const Reader& r, const std::string& backend) {
  const auto backends = backend_names();
  if (std::find(backends.begin(), backends.end(), backend) != backends.end()) return;
  std::string list;
  for (const auto& b : backends)
    list += (list.empty() ? "" : ", ") + b;
  throw Error("key 'backend' (" + r.where("backend") + "): unknown backend \"" + backend +
              "\"; choose one of " + list);
}

}  // namespace

const std::vector<PresetInfo>& presets() {
  static const std::vector<PresetInfo> list = [] {
    std::vector<PresetInfo> v;
    for (const auto& d : preset_defs())
      v.push_back(d.info);
    return v;
  }();
  return list;
}

std::vector<PointSource> stencil_sources(index_t nx, index_t ny, double energy) {
  // 1-based (i, j) of the study, converted to 0-based.
  const index_t pos[3][2] = {{nx / 2, ny / 2}, {nx / 3, ny / 3}, {nx * 4 / 5, ny * 8 / 9}};
  std::vector<PointSource> v;
  for (const auto& p : pos)
    v.push_back(PointSource{{p[0] - 1, p[1] - 1, 0}, energy, {}});
  return v;
}

std::string_view to_string(MethodKind m) {
  return m == MethodKind::spectral ? "spectral" : "stencil";
}

std::vector<SweepMember> load_sweep(std::string_view text, const std::string& source) {
  toml::table t = parse_toml(text, source);
  const toml::table* axes = t["sweep"].as_table();
  if (axes == nullptr || axes->empty())
    throw Error(source +
                " has no [sweep] table: give one, e.g. [sweep] n = [240, 480], whose "
                "lists make the members");
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::size_t count = 1;
  // In the file's order (toml++ iterates its keys sorted): the table's columns as written.
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (const auto& [k, v] : *axes)
    entries.emplace_back(std::string(k.str()), &v);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& x = a.second->source().begin;
    const auto& y = b.second->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  for (const auto& [key, node] : entries) {
    const toml::node& v = *node;
    const toml::array* a = v.as_array();
    if (a == nullptr || a->empty())
      throw Error("key 'sweep." + key + "' (" + source + "): expected a non-empty list of " + key +
                  " values, got " + type_name(v) + " " + render(v));
    lists.push_back({key, {}});
    for (const toml::node& value : *a) {
      std::string s;
      render_to(s, value, SIZE_MAX);
      lists.back().second.push_back(s);
    }
    count *= a->size();
    if (count > 100000)
      throw Error(source + "'s [sweep] makes more than 100000 members; split the sweep");
  }
  t.erase("sweep");
  std::string base;  // the shared settings, as TOML the reader takes again
  for (const auto& [k, v] : t) {
    base += std::string(k.str()) + " = ";
    render_to(base, v, SIZE_MAX);
    base += "\n";
  }
  std::vector<SweepMember> members(count);
  for (std::size_t m = 0; m < count; ++m) {
    std::vector<Override> overrides;
    for (std::size_t rest = m, a = lists.size(); a-- > 0;) {  // the last list varies fastest
      const auto& [key, values] = lists[a];
      overrides.insert(overrides.begin(), {key, values[rest % values.size()], "sweep." + key});
      rest /= values.size();
    }
    for (const Override& o : overrides)
      members[m].settings.emplace_back(o.key, o.value);
    try {
      members[m].config = load_config(base, source, overrides);
    } catch (const Error& e) {
      members[m].error = e.what();
    }
  }
  return members;
}

std::string nearest_name(std::string_view word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_d = 4;  // three edits at most
  for (const auto& n : names) {
    const std::size_t d = edit_distance(word, n);
    if (d < best_d) best = n, best_d = d;
  }
  return best;
}

Config load_config(std::string_view toml_text, const std::string& source,
                   const std::vector<Override>& overrides, const CellArrays& arrays) {
  std::map<std::string, std::string> origins;
  toml::table t = merged_table(toml_text, source, overrides, origins);
  const std::string preset = apply_preset(t);

  Reader r(t, std::move(origins), source);
  r.find("preset");
  Config c;
  c.problem = read_problem(r, preset, arrays);
  read_parallelism(r, c.run);
  read_outputs(r, c.run);
  read_method(r, c.run);
  check_backend(r, c.run.backend);

  r.reject_unused(known_keys());
  c.problem.validate();
  return c;
}

Config load_config_file(const std::string& path, const std::vector<Override>& overrides) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read config file '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return load_config(ss.str(), path, overrides);
}

}  // namespace calor
