// Configuration: presets, overrides, and clear errors for bad input.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "calor/error.hpp"
#include "calor/npy.hpp"
#include "calor/output.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

// Expects load_config to throw an Error whose message contains every one of `parts`.
void expect_error(const std::string& toml, const std::vector<Override>& o,
                  const std::vector<std::string>& parts) {
  try {
    load_config(toml, "bad.toml", o);
    ADD_FAILURE() << "no error for:\n" << toml;
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& part : parts)
      EXPECT_NE(msg.find(part), std::string::npos) << "message lacks '" << part << "': " << msg;
  }
}

TEST(Config, FlagsOverrideFileOverridesPreset) {
  const Config c =
      load_config("preset = \"stencil\"\nsteps = 7\nn = 100\n", "f.toml", {{"n", "60", "--n"}});
  EXPECT_EQ(c.problem.steps, 7);
  EXPECT_EQ(c.problem.grid.n[0], 60);
  EXPECT_EQ(c.problem.grid.n[1], 60);
  EXPECT_EQ(c.problem.sources.points[0].at[0], 30 - 1);  // sources follow the final n
}

TEST(Config, ArraysAndBroadcast) {
  const Problem p =
      test::problem("dim = 3\nn = [4, 5, 6]\nh = 0.5\n", {{"boundary.z", "periodic", "--set"}});
  EXPECT_EQ(p.grid.n[2], 6);
  EXPECT_EQ(p.grid.h[1], 0.5);
  EXPECT_EQ(p.boundaries.face[2][1].kind, BoundaryKind::periodic);
  EXPECT_EQ(p.boundaries.face[0][0].kind, BoundaryKind::dirichlet);
  EXPECT_DOUBLE_EQ(p.dt, p.default_dt());
  EXPECT_DOUBLE_EQ(p.stability_number(), 0.25);
  const Problem q = test::problem("dim = 2\n", {{"n", "30,20", "--n"}});
  EXPECT_EQ(q.grid.n[0], 30);
  EXPECT_EQ(q.grid.n[1], 20);
}

TEST(Config, UnstableDtNamesDtLimitAndStableDt) {
  expect_error("preset = \"stencil\"\ndt = 0.3\n", {},
               {"dt = 0.3", "0.5", "largest stable dt is 0.25", "--allow-unstable"});
  // ... and runs when asked to.
  EXPECT_NO_THROW(load_config("preset = \"stencil\"\ndt = 0.3\nallow_unstable = true\n", "f", {}));
}

TEST(Config, StencilPresetNeedsRoomForItsSources) {
  expect_error("preset = \"stencil\"\nn = 2\n", {}, {"stencil", "3 x 3", "n = 2"});
}

TEST(Config, NegativeSize) {
  expect_error("preset = \"stencil\"\nn = -5\n", {}, {"'n'", "-5"});
}

TEST(Config, UnknownPreset) {
  expect_error("", {{"preset", "stensil", "--preset"}}, {"stensil", "stencil", "gaussian2d"});
}

TEST(Config, MalformedToml) {
  expect_error("n = [1, 2\nsteps = 3\n", {}, {"malformed TOML", "bad.toml", "line"});
}

TEST(Config, UnknownKeySuggestsTheNearest) {
  expect_error("preset = \"stencil\"\nstep = 3\n", {},
               {"unknown key 'step'", "did you mean 'steps'"});
  expect_error("preset = \"stencil\"\n", {{"boundary.x_lo", "periodic", "--set"}},
               {"'boundary.x_lo'", "--set", "boundary.x_low"});
  expect_error("dim = 1\nn = 4\nboundary.x_low = { type = \"dirichlet\", gradient = 1.0 }\n", {},
               {"boundary.x_low.gradient"});
}

// Issue 17, item 4: nesting and lengths are bounded before toml++ sees the text (100 000
// levels of a dotted key overflowed its stack), and messages quote a bounded excerpt.
TEST(Config, NestingAndLengthsAreBoundedBeforeParsing) {
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i)
      out += s;
    return out;
  };
  expect_error("n = 4\n" + repeat("a.", 100000) + "a = 1\n", {},
               {"line 2", "dotted key deeper than 32 levels"});
  expect_error("[" + repeat("a.", 100000) + "a]\n", {}, {"dotted key deeper than 32 levels"});
  expect_error("x = " + repeat("[", 100000) + repeat("]", 100000) + "\n", {},
               {"nested deeper than 64 levels"});
  expect_error("x = " + repeat("{a=", 100000) + "1" + repeat("}", 100000) + "\n", {},
               {"nested deeper than 64 levels"});
  expect_error("n = 4\n" + std::string(100000, 'k') + " = 1\n", {},
               {"line 2", "column 257", "longer than 256 characters"});
  expect_error("n = 4\ns = \"" + std::string(100000, 'v') + "\"\n", {},
               {"string longer than 4096 characters"});
  expect_error(std::string(17u << 20, '#'), {}, {"bad.toml is 17825792 bytes", "at most"});
  // At the bounds (32 levels, 64 brackets, a float in the key's value) the text parses; the
  // unknown key is then quoted by its start and its length.
  const std::string key32 = repeat("a.", 31) + "a";
  expect_error(
      "n = [4, 4]\nx = " + repeat("[", 63) + "{" + key32 + " = 1.5}" + repeat("]", 63) + "\n", {},
      {"unknown key 'x'"});
  expect_error("n = [4, 4]\ninitial." + key32 + " = 1\n", {},
               {"unknown key 'initial.a.a.a", "... (71 characters)"});
  const Config c = load_config(
      "dim = 1\nn = 4\ninitial = { type = \"npy\", path = \"" + std::string(4000, 'p') + "\" }\n",
      "f", {});
  EXPECT_EQ(c.problem.initial.path.size(), 4000u);
  // A bad override value is quoted by its start only.
  try {
    load_config("preset = \"stencil\"\n", "f", {{"steps", std::string(3000, '[') + "x", "--set"}});
    ADD_FAILURE() << "no error for steps=[[[...";
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
  }
}

// A checkpoint carries its problem as TOML (problem_toml) so that `calor run --restart FILE`
// needs nothing else: the strict reader turns it back into the same problem, bit for bit.
TEST(Config, ProblemTomlReadsBackAsTheSameProblem) {
  const std::vector<std::string> cases = {
      "preset = \"stencil\"\nn = 48\nsteps = 7\nenergy = 2.5\n",
      "preset = \"diffusion1d\"\n",
      "preset = \"gaussian2d\"\nn = 40\n",
      "preset = \"gaussian3d\"\nn = 12\n",
      "dim = 3\nn = [5, 6, 7]\nh = [0.1, 0.3, 0.7]\nalpha = 0.37\ndt = 0.001\nsteps = 9\n"
      "form = \"expanded\"\nboundary = { x = \"periodic\", y_low = { type = \"neumann\", "
      "gradient = -0.2 }, y_high = { type = \"dirichlet\", value = 1e-300 }, z_low = "
      "\"neumann\" }\nsources = { volumetric = 0.1, points = [{ at = [1, 2, 3], energy = "
      "1.0e10 }, { at = [0, 0, 0], energy = -3.25 }] }\n",
      "dim = 2\nn = 8\ndt = 0.3\nallow_unstable = true\n"};
  for (const std::string& text : cases) {
    SCOPED_TRACE(text);
    const Problem p = load_config(text, "case", {}).problem;
    const std::string toml = problem_toml(p);
    const Problem q = load_config(toml, "checkpoint", {}).problem;
    EXPECT_EQ(fingerprint(q), fingerprint(p)) << toml;
    EXPECT_EQ(q.steps, p.steps);
    EXPECT_EQ(q.allow_unstable, p.allow_unstable);
    EXPECT_EQ(std::memcmp(&q.dt, &p.dt, sizeof p.dt), 0);
    EXPECT_EQ(std::memcmp(&q.alpha, &p.alpha, sizeof p.alpha), 0);
    EXPECT_EQ(std::memcmp(q.grid.h.data(), p.grid.h.data(), sizeof p.grid.h), 0);
  }
}

// `calor sweep`: the members are the product of the [sweep] lists, the last fastest, each the
// shared settings with its own; a bad value is that member's error, a bad table the sweep's.
TEST(Config, SweepMembersAreTheProductOfTheLists) {
  const auto members = load_sweep(
      "preset = \"stencil\"\nsteps = 7\nboundary = { x = \"periodic\" }\n[sweep]\n"
      "n = [24, 36]\nenergy = [0.5, 1.0, -2.0]\nform = [\"expanded\"]\n",
      "s.toml");
  ASSERT_EQ(members.size(), 6u);
  EXPECT_EQ(members[1].settings, (std::vector<std::pair<std::string, std::string>>{
                                     {"n", "24"}, {"energy", "1.0"}, {"form", "\"expanded\""}}));
  EXPECT_EQ(members[5].config.problem.grid.n[0], 36);
  EXPECT_EQ(members[5].config.problem.sources.points[0].energy, -2.0);
  EXPECT_EQ(members[5].config.problem.steps, 7);
  EXPECT_EQ(members[5].config.problem.boundaries.face[0][0].kind, BoundaryKind::periodic);
  const auto bad = load_sweep("preset = \"stencil\"\n[sweep]\nn = [24, -3]\n", "s.toml");
  EXPECT_TRUE(bad[0].error.empty());
  EXPECT_NE(bad[1].error.find("key 'n' (sweep.n)"), std::string::npos) << bad[1].error;
  for (const char* text : {"n = 4\n", "[sweep]\nn = 4\n", "[sweep]\nn = []\n"})
    EXPECT_THROW(load_sweep(text, "s.toml"), Error) << text;
}

TEST(Config, NonAsciiOnlyInsideStrings) {
  // toml++ 3.3 misbehaves on some non-ASCII input; calor hands it ASCII only (see config.cpp).
  const Config c = load_config(
      "dim = 1 # température\nn = 4\ninitial = { type = \"npy\", path = \"données/é.npy\" }\n", "f",
      {});
  EXPECT_EQ(c.problem.initial.path, "données/é.npy");
  expect_error("dim = 1\nn = 4\u00a0\n", {}, {"line 2", "U+00A0", "outside a string"});
  expect_error("dim = 1\nn = 4\xff\n", {}, {"invalid UTF-8"});
  expect_error("dim = 1\nn = 4\ninitial = { type = 'npy', path = 'é' }\n", {},
               {"literal", "basic"});
  expect_error("preset = \"stencil\"\n", {{"steps", "", "--set"}}, {"'steps'", "an integer"});
}

TEST(Config, WrongTypes) {
  expect_error("preset = \"stencil\"\nsteps = \"many\"\n", {},
               {"'steps'", "an integer", "\"many\""});
  expect_error("preset = \"stencil\"\n", {{"alpha", "fast", "--alpha"}},
               {"'alpha'", "--alpha", "\"fast\""});
  expect_error("dim = 2\nn = [1, 2, 3]\n", {}, {"'n'", "expected 2 values"});
  expect_error("dim = 4\nn = 3\n", {}, {"'dim'", "4"});
  expect_error("dim = 1\nn = 3\nform = \"fancy\"\n", {}, {"'form'", "fancy", "expanded"});
}

TEST(Config, KeysForTheWrongContextAreRejected) {
  expect_error("dim = 1\nn = 8\nenergy = 2.0\n", {}, {"'energy'", "stencil"});
  expect_error("dim = 1\nn = 8\ninitial = { type = \"constant\", width = 2.0 }\n", {},
               {"initial.width", "gaussian"});
}

TEST(Config, BadValues) {
  expect_error("dim = 1\nn = 8\nalpha = -1.0\n", {}, {"alpha", "-1"});
  expect_error("dim = 1\nn = 8\nsources.points = [{ at = [8], energy = 1.0 }]\n", {},
               {"sources.points[0].at[0] = 8", "[0, 7]"});
  expect_error("dim = 2\nn = 8\nboundary.x_low = \"periodic\"\n", {},
               {"boundary.x_low", "periodic", "boundary.x_high"});
  expect_error("dim = 2\nn = 8\nh = [1.0, 2.0]\nform = \"factored\"\n", {}, {"factored", "r_y"});
}

TEST(Config, MethodAndSpectralSettingsAreReadOnce) {
  const Config d = load_config("dim = 1\nn = 8\n", "f.toml");
  EXPECT_EQ(d.run.method, MethodKind::stencil);
  EXPECT_EQ(d.run.spectral_mode, SpectralMode::discrete);
  EXPECT_EQ(d.run.fft_planning, FftPlanning::estimate);
  EXPECT_EQ(to_string(d.run.method), "stencil");

  const Config c =
      load_config("dim = 1\nn = 8\nmethod = \"spectral\"\n[spectral]\nmode = \"continuous\"\n",
                  "f.toml", {{"spectral.planning", "patient", "--fft-planning"}});
  EXPECT_EQ(c.run.method, MethodKind::spectral);
  EXPECT_EQ(to_string(c.run.method), "spectral");
  EXPECT_EQ(c.run.spectral_mode, SpectralMode::continuous);
  EXPECT_EQ(c.run.fft_planning, FftPlanning::patient);
  EXPECT_EQ(
      load_config("dim = 1\nn = 8\nspectral.planning = \"measure\"\n", "f.toml").run.fft_planning,
      FftPlanning::measure);

  expect_error("dim = 1\nn = 8\nmethod = \"fourier\"\n", {},
               {"key 'method' (bad.toml): unknown value \"fourier\"; choose one of stencil, "
                "spectral"});
  expect_error("dim = 1\nn = 8\n", {{"spectral.mode", "exact", "--spectral-mode"}},
               {"key 'spectral.mode' (--spectral-mode): unknown value \"exact\"; choose one of "
                "discrete, continuous"});
  expect_error("dim = 1\nn = 8\nspectral.planning = \"wisdom\"\n", {},
               {"key 'spectral.planning' (bad.toml): unknown value \"wisdom\"; choose one of "
                "estimate, measure, patient"});
  expect_error("dim = 1\nn = 8\nmethod = 1\n", {}, {"key 'method'", "expected a string"});
}

// ---- the table of keys (config_keys()) and the reader agree ---------------------------------

// What a key's example needs beside it to load: a 2D grid of 32 x 32 cells, and for some keys
// another key (the type it belongs to, the file it times, the preset it needs).
std::vector<std::pair<std::string, std::string>> base_for(const std::string& key) {
  std::vector<std::pair<std::string, std::string>> base = {
      {"preset", key == "energy" ? "\"stencil\"" : "\"none\""}, {"dim", "2"}, {"n", "32"}};
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> needs = {
      {"output.every", {"output.path", "\"out/run.h5\""}},
      {"output.png_every", {"output.png", "\"out/frame\""}},
      {"checkpoint.every", {"checkpoint.path", "\"out/run.ckpt.h5\""}},
      {"initial.value", {"initial.type", "\"constant\""}},
      {"initial.centre", {"initial.type", "\"gaussian\""}},
      {"initial.width", {"initial.type", "\"gaussian\""}},
      {"initial.amplitude", {"initial.type", "\"gaussian\""}},
      {"initial.path", {"initial.type", "\"npy\""}}};
  for (const auto& [k, need] : needs)
    if (k == key) base.push_back(need);
  // A cell field's key needs the rest of its shape.
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"type", "\"layers\""}, {"bounds", "[10.0, 20.0]"}, {"values", "[1.0, 0.05, 1.0]"},
      {"type", "\"box\""},    {"lo", "[10.0, 10.0]"},     {"hi", "[20.0, 30.0]"},
      {"inside", "0.01"},     {"type", "\"sphere\""},     {"centre", "[16.0, 16.0]"},
      {"radius", "5.0"},      {"inside", "0.01"}};
  const std::map<std::string, std::pair<std::size_t, std::size_t>> shape_of = {
      {"axis", {0, 3}},   {"bounds", {0, 3}},  {"values", {0, 3}},  {"lo", {3, 7}},  {"hi", {3, 7}},
      {"inside", {3, 7}}, {"centre", {7, 11}}, {"radius", {7, 11}}, {"type", {0, 3}}};
  for (const std::string prefix : {"diffusivity.", "sources.field."}) {
    if (key.rfind(prefix, 0) != 0) continue;
    if (key == prefix + "path") base.emplace_back(prefix + "type", "\"npy\"");
    if (key == prefix + "dataset") {
      base.emplace_back(prefix + "type", "\"hdf5\"");
      base.emplace_back(prefix + "path", "\"missing.h5\"");
    }
    const auto it = shape_of.find(key.substr(prefix.size()));
    if (it == shape_of.end()) continue;
    for (std::size_t i = it->second.first; i < it->second.second; ++i)
      if (prefix + shapes[i].first != key)
        base.emplace_back(prefix + shapes[i].first, shapes[i].second);
  }
  return base;
}

TEST(ConfigKeys, TheTableIsComplete) {
  std::set<std::string> names;
  for (const auto& k : config_keys()) {
    EXPECT_TRUE(names.insert(k.name).second) << "listed twice: " << k.name;
    EXPECT_FALSE(k.type.empty()) << k.name;
    EXPECT_FALSE(k.help.empty()) << k.name;
    EXPECT_FALSE(k.example.empty()) << k.name;
  }
  // Spot checks: one per section, and the presets named in the help of `preset`.
  for (const char* k : {"preset", "n", "dt", "backend", "output.every", "checkpoint.path",
                        "spectral.mode", "boundary.x_low", "sources.points", "initial.centre"})
    EXPECT_EQ(names.count(k), 1U) << k;
  for (const auto& p : presets())
    EXPECT_NE(config_keys().front().help.find(p.name), std::string::npos) << p.name;
}

// Every key in the table is accepted, with its example value, as a flag (--set) and in a file.
// The other way round, load_config refuses to read a key that the table lacks (a logic_error from
// its reader), which these loads and every other test of load_config would show.
TEST(ConfigKeys, EveryExampleLoads) {
  for (const auto& k : config_keys()) {
    SCOPED_TRACE(k.name + " = " + k.example);
    std::vector<Override> flags;
    std::string file;
    for (const auto& [key, value] : base_for(k.name)) {
      flags.push_back({key, value, "--set"});
      if (key != k.name) file += key + " = " + value + "\n";  // TOML sets a key once
    }
    flags.push_back({k.name, k.example, "--set"});
    file += k.name + " = " + k.example + "\n";
    // A cell field's file (its example names one that is not there): the key is read, and the
    // error is about the file.
    const bool cell_file =
        (k.name.starts_with("diffusivity.") || k.name.starts_with("sources.field.")) &&
        (k.name.ends_with(".path") || k.name.ends_with(".dataset"));
    if (cell_file) {
      for (const std::string& text : {std::string(), file})
        try {
          load_config(text, "keys.toml", text.empty() ? flags : std::vector<Override>{});
          ADD_FAILURE() << "loaded without its file";
        } catch (const Error& e) {
          const std::string m = e.what();
          EXPECT_TRUE(m.find(".npy") != std::string::npos ||
                      m.find("missing.h5") != std::string::npos)
              << m;
        }
      continue;
    }
    try {
      load_config("", "flags", flags);
      load_config(file, "keys.toml", {});
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

// ... and a key one letter off any of them is unknown, with that key as the suggestion.
TEST(ConfigKeys, MisspeltKeysAreRejectedWithTheNearest) {
  for (const auto& k : config_keys()) {
    const std::string typo = k.name + "_";
    std::vector<Override> o;
    for (const auto& [key, value] : base_for(k.name))
      o.push_back({key, value, "--set"});
    // The keys of a cell field are read together: the others need this one. (A cell field's
    // file is read before leftovers are checked, so its path keys are left out here.)
    if (k.name.starts_with("diffusivity.") || k.name.starts_with("sources.field.")) {
      if (k.name.ends_with(".path") || k.name.ends_with(".dataset")) continue;
      o.push_back({k.name, k.example, "--set"});
    }
    o.push_back({typo, "1", "--set"});
    expect_error("", o, {"unknown key '" + typo + "' (--set)", "did you mean '" + k.name + "'?"});
  }
  expect_error("dim = 1\nn = 4\n[output]\nevery = 10\npath = \"a.h5\"\npng_evry = 2\n", {},
               {"unknown key 'output.png_evry' (bad.toml); did you mean 'output.png_every'?",
                "See `calor run --help`"});
  expect_error("dim = 1\nn = 4\ncolour = \"red\"\n", {}, {"unknown key 'colour' (bad.toml)."});
}

class NpyInput : public ::testing::Test {
 protected:
  // One folder per test: CTest runs tests in parallel.
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("calor_npy_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string npy_toml(const std::string& file) {
    return "dim = 2\nn = [3, 2]\n[initial]\ntype = \"npy\"\npath = \"" + (dir / file).string() +
           "\"\n";
  }
};

TEST_F(NpyInput, LoadsAndRoundTrips) {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6};
  save_npy((dir / "ok.npy").string(), {2, 3}, v.data());
  Solver s(test::problem(npy_toml("ok.npy")), make_backend("serial"));
  EXPECT_EQ(s.field()(2, 0), 3.0);
  EXPECT_EQ(s.field()(0, 1), 4.0);
  EXPECT_EQ(test::interior(s.field()), v);
}

TEST_F(NpyInput, MissingFile) {
  const Problem p = test::problem(npy_toml("absent.npy"));
  try {
    Solver s(p, make_backend("serial"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.npy"), std::string::npos) << e.what();
  }
}

TEST_F(NpyInput, WrongShape) {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6};
  save_npy((dir / "t.npy").string(), {3, 2}, v.data());
  try {
    Solver s(test::problem(npy_toml("t.npy")), make_backend("serial"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("(3, 2)"), std::string::npos) << m;
    EXPECT_NE(m.find("expected (2, 3)"), std::string::npos) << m;
  }
}

TEST_F(NpyInput, WrongDtype) {
  // A float32 file as NumPy writes it.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(dir / "f4.npy", std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size()), 0};
  out.write(len, 2);
  out << header;
  const float data[6] = {};
  out.write(reinterpret_cast<const char*>(data), sizeof data);
  out.close();
  try {
    Solver s(test::problem(npy_toml("f4.npy")), make_backend("serial"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'<f4'"), std::string::npos) << m;
    EXPECT_NE(m.find("float64"), std::string::npos) << m;
  }
}

TEST(Backends, UnknownBackendListsChoices) {
  try {
    make_backend("gpu9000");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("serial"), std::string::npos);
  }
}

}  // namespace
}  // namespace calor
