#include <cstddef>
#include <cstdio>
extern "C" size_t zeroed_sum(size_t n);
int main(int argc, char**) {
  size_t r = zeroed_sum(argc + 9);
  std::printf("zeroed_sum(%d) = %zu\n", argc + 9, r);
  return r == 10 ? 0 : 1;
}
