#include <cstdio>

#include "examples/cpp/arith.h"

int main(int argc, char**) {
  int n = argc + 6;
  std::printf("square(%d) = %d, cube(%d) = %d\n", n, square(n), n, cube(n));
  return square(n) == 49 ? 0 : 1;
}
