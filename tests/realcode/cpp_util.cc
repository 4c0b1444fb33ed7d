#include "tests/realcode/cpp_util.h"

#include <string>

extern "C" uint32_t cpp_mix(uint32_t a, uint32_t b) { return (a * 31u) ^ (b + 0x9e3779b9u); }

extern "C" uint32_t cpp_label_len(uint32_t id) {
  std::string label = "record-" + std::to_string(id);
  return static_cast<uint32_t>(label.size());
}
