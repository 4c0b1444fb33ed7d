// C++ as it is usually written: exceptions and RAII around calls into Rust.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
uint32_t rs_digit(uint32_t value, size_t position);
uint32_t rs_ratio(uint32_t a, uint32_t b);
uint32_t rs_checked(uint32_t x);
}

int main(int argc, char**) {
  try {
    std::vector<std::string> log;
    uint32_t acc = static_cast<uint32_t>(argc);
    // EXCEPTIONS_PANIC=1 makes Rust index out of bounds.
    size_t position = std::getenv("EXCEPTIONS_PANIC") ? 7 : 1;
    for (uint32_t i = 1; i <= 100; ++i) {
      acc += rs_digit(i * 37, i % 3 == 0 ? position : i % 3) + rs_ratio(100000, i) + rs_checked(i);
      if (i % 50 == 0) log.push_back(std::to_string(i) + ": " + std::to_string(acc));
    }
    for (const std::string& line : log) std::printf("%s\n", line.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
