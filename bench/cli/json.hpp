#pragma once
// A flat JSON object written key by key, for the one-line summaries of `calor run` and the bench
// reports, and the one-line records of the Python helpers read back (read_flat_json): both on
// nlohmann-json (nlohmann-json3-dev).

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <type_traits>

#include "calor/error.hpp"

namespace calor::bench {

class JsonObject {
 public:
  template <class T>
  JsonObject& add(const std::string& key, T v) {  // by value: a string literal decays
    if constexpr (std::is_floating_point_v<T>) {
      // JSON has no NaN or infinity: those become null.
      obj_[key] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
    } else {
      obj_[key] = v;
    }
    return *this;
  }
  /// Adds an already formatted JSON value (an array or object).
  JsonObject& raw(const std::string& key, const std::string& json) {
    obj_[key] = nlohmann::ordered_json::parse(json);
    return *this;
  }
  /// One line, "key": value pairs in the order added, numbers as the shortest decimal that reads
  /// back as the same double.
  [[nodiscard]] std::string str() const {
    std::string s;
    for (const auto& [key, value] : obj_.items())
      s += (s.empty() ? "" : ", ") + quote(key) + ": " + value.dump(-1, ' ', false, kReplace);
    return "{" + s + "}";
  }

  static std::string quote(const std::string& s) {
    return nlohmann::ordered_json(s).dump(-1, ' ', false, kReplace);
  }

 private:
  static constexpr auto kReplace = nlohmann::ordered_json::error_handler_t::replace;
  nlohmann::ordered_json obj_ = nlohmann::ordered_json::object();
};

/// Reads a one-line flat JSON object such as {"n": 16, "peer": "pyFFTW", "ok": true}: each key
/// with its string value, or its number, true, false or null as JSON writes it. Empty if `line`
/// is not a JSON object or holds a nested object or array.
inline std::map<std::string, std::string> read_flat_json(const std::string& line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {};
  std::map<std::string, std::string> fields;
  for (const auto& [key, value] : j.items()) {
    if (value.is_structured()) return {};
    fields[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return fields;
}

/// Writes OUT.json and OUT.md of a benchmark with `json` and `md`, and says so; throws
/// calor::Error naming the files if they cannot be opened.
inline void write_results(const std::string& out, const std::function<void(std::ostream&)>& json,
                          const std::function<void(std::ostream&)>& md) {
  std::ofstream js(out + ".json"), mdf(out + ".md");
  if (!js || !mdf) throw Error("cannot write " + out + ".json / .md: check the directory exists");
  json(js);
  md(mdf);
  std::printf("\nwrote %s.json and %s.md\n", out.c_str(), out.c_str());
}

}  // namespace calor::bench
