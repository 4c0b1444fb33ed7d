#include <cstdint>
// The same loop, vectorized as usual.
extern "C" __attribute__((noinline)) uint32_t fast_sum(const uint32_t* v, int n) {
  uint32_t s = FAST_BIAS;
  for (int i = 0; i < n; ++i) s += v[i] * 3u;
  return s;
}
