#pragma once
// A flat JSON object written key by key, for the one-line summaries of `calor run` and the bench
// reports. Numbers are the shortest decimal that reads back as the same double.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace calor::app {

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

}  // namespace calor::app
