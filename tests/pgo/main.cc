// Which branch is hot depends on the input, so only a profile can tell the optimizer
// (tests/e2e/test_pgo.py): trained with step 2, only even inputs, pgo_cold never runs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" uint64_t pgo_hot(uint64_t x);
extern "C" uint64_t pgo_cold(uint64_t x);

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000;
  uint64_t step = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; i += step) {
    sum += (i % 2 == 0) ? pgo_hot(i) : pgo_cold(i);
  }
  std::printf("pgo: sum = %llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
