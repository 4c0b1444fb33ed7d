#include <cstdint>
// Vectorizable at -O2, but this library's copts forbid it: no SIMD here.
extern "C" __attribute__((noinline)) uint32_t scalar_sum(const uint32_t* v, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; ++i) s += v[i] * 3u;
  return s;
}
