#pragma once
// A flat JSON object written key by key, for the one-line summaries of `calor run` and the bench
// reports. Numbers are the shortest decimal that reads back as the same double. And read back:
// the one-line records of the Python helpers (read_flat_json).

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>
#include <string>

#include "calor/error.hpp"

namespace calor::bench {

class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& v) { return raw(key, quote(v)); }
  JsonObject& add(const std::string& key, const char* v) { return raw(key, quote(v)); }
  JsonObject& add(const std::string& key, double v) { return raw(key, number(v)); }
  JsonObject& add(const std::string& key, long long v) { return raw(key, std::to_string(v)); }
  JsonObject& add(const std::string& key, int v) { return raw(key, std::to_string(v)); }
  JsonObject& add(const std::string& key, bool v) { return raw(key, v ? "true" : "false"); }
  /// Adds an already formatted JSON value (an array or object).
  JsonObject& raw(const std::string& key, const std::string& json) {
    body_ += (body_.empty() ? "" : ", ") + quote(key) + ": " + json;
    return *this;
  }
  [[nodiscard]] std::string str() const { return "{" + body_ + "}"; }

  static std::string quote(const std::string& s) {
    std::string r = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') {
        r += '\\';
        r += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        r += buf;
      } else {
        r += c;
      }
    }
    return r + "\"";
  }
  /// JSON has no NaN or infinity: those become null.
  static std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[40];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
  }

 private:
  std::string body_;
};

/// Reads a one-line flat JSON object such as {"n": 16, "peer": "pyFFTW", "ok": true}: each key
/// with its string value unescaped, or its number, true, false or null as written. Empty if
/// `line` is not such an object (nested objects and arrays are not read).
inline std::map<std::string, std::string> read_flat_json(const std::string& line) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
  };
  auto read_string = [&](std::string& out) {  // at the opening quote
    if (i >= line.size() || line[i] != '"') return false;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] != '\\') {
        out += line[i];
        continue;
      }
      if (++i >= line.size()) return false;
      if (line[i] == 'u') {  // \uXXXX: ASCII kept, anything else as '?'
        if (i + 4 >= line.size()) return false;
        const long c = std::strtol(line.substr(i + 1, 4).c_str(), nullptr, 16);
        out += c < 0x80 ? static_cast<char>(c) : '?';
        i += 4;
      } else {  // \n \t \r \b \f, or the character itself (\" \\ \/)
        const std::string from = "ntrbf", to = "\n\t\r\b\f";
        const std::size_t k = from.find(line[i]);
        out += k == std::string::npos ? line[i] : to[k];
      }
    }
    if (i >= line.size()) return false;
    ++i;
    return true;
  };
  std::map<std::string, std::string> fields;
  skip();
  if (i >= line.size() || line[i] != '{') return {};
  ++i;
  skip();
  if (i < line.size() && line[i] == '}') return fields;
  while (true) {
    std::string key, value;
    skip();
    if (!read_string(key)) return {};
    skip();
    if (i >= line.size() || line[i] != ':') return {};
    ++i;
    skip();
    if (i < line.size() && line[i] == '"') {
      if (!read_string(value)) return {};
    } else {
      while (i < line.size() && line[i] != ',' && line[i] != '}' &&
             !std::isspace(static_cast<unsigned char>(line[i])))
        value += line[i++];
      if (value.empty() || value[0] == '{' || value[0] == '[') return {};
    }
    fields[key] = value;
    skip();
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    if (i < line.size() && line[i] == '}') return fields;
    return {};
  }
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
