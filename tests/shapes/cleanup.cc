#include <cstdint>

namespace {
// A local with a destructor: the function gets C++'s personality and a cleanup.
struct Counter {
  uint32_t* n;
  ~Counter() { ++*n; }
};
uint32_t destroyed = 0;
__attribute__((noinline)) void may_throw(uint32_t x) {
  if (x == 0xffffffffu) throw 1;
}
}  // namespace

extern "C" uint32_t cpp_with_cleanup(uint32_t x) {
  Counter c{&destroyed};
  may_throw(x);
  return x * 2 + destroyed % 2;
}
