#include <cstdint>
#include <cstdio>

extern "C" {
uint32_t scalar_sum(const uint32_t* v, int n);
uint32_t fast_sum(const uint32_t* v, int n);
int plain_c_twice(int x);
}

int main(int argc, char**) {
  uint32_t v[1000];
  for (int i = 0; i < 1000; ++i) v[i] = static_cast<uint32_t>(i * argc);
  std::printf("%u %u %d\n", scalar_sum(v, 1000), fast_sum(v, 1000), plain_c_twice(argc + 20));
  return 0;
}
