#include <cstdint>
#include <cstdio>

extern "C" {
uint32_t standin_weight(uint32_t x);
uint64_t standin_sum(uint32_t n);
int scale_by_three(int x);
}

int main(int argc, char**) {
  uint32_t x = static_cast<uint32_t>(argc) + 41;
  std::printf("standin_weight(%u) = %u, standin_sum(100) = %llu, scale_by_three(%u) = %d\n", x, standin_weight(x),
              static_cast<unsigned long long>(standin_sum(100)), x, scale_by_three(static_cast<int>(x)));
  return 0;
}
