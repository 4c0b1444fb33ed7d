// C++ as people write it: exceptions, RAII, the standard library, calling Rust.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
int realcode_report(char* buf, size_t cap);
uint32_t realcode_mix(uint32_t a, uint32_t b);
uint32_t realcode_ratio(uint32_t a, uint32_t b);
uint32_t realcode_digit(uint32_t value, size_t position);
}

namespace {

std::string report() {
  std::vector<char> buf(1 << 16);
  int rc = realcode_report(buf.data(), buf.size());
  if (rc != 0) throw std::runtime_error("realcode_report failed: " + std::string(buf.data()));
  return std::string(buf.data());
}

}  // namespace

int main(int argc, char**) {
  try {
    std::fputs(report().c_str(), stdout);
    std::vector<std::string> lines;
    uint32_t acc = static_cast<uint32_t>(argc);
    for (uint32_t i = 1; i <= 1000; ++i) {
      acc = realcode_mix(acc, i) + realcode_ratio(1000000u, i) + realcode_digit(i, i % 4);
      if (i % 250 == 0) lines.push_back("step " + std::to_string(i) + ": " + std::to_string(acc));
    }
    for (const std::string& line : lines) std::printf("c++: %s\n", line.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
