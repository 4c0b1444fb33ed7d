#ifndef TESTS_REALCODE_CPP_UTIL_H_
#define TESTS_REALCODE_CPP_UTIL_H_

#include <cstdint>

extern "C" {
// Mixes two checksums (pure: no exceptions, no destructors).
uint32_t cpp_mix(uint32_t a, uint32_t b);
// The length of a label built with std::string (a destructor runs on every path).
uint32_t cpp_label_len(uint32_t id);
}

#endif  // TESTS_REALCODE_CPP_UTIL_H_
