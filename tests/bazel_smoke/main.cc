#include <cstdio>

#include "tests/bazel_smoke/square.h"

int main() {
  std::printf("square(7)=%d\n", square(7));
  return 0;
}
