#include <cstdio>

#include "examples/mixed/geometry.h"

extern "C" {
int rust_square_plus_one(int x);  // Rust (stats), which calls C++ cpp_square.
long rust_report(int n);           // Rust (report), which calls Rust (stats).
}

int main(int argc, char**) {
  int n = argc + 4;  // 5 when run without arguments; not a compile-time constant.
  int a = rust_square_plus_one(n);
  long b = rust_report(n);
  std::fflush(stdout);
  std::printf("c++: rust_square_plus_one(%d) = %d, rust_report(%d) = %ld, geometry initialized %d time(s)\n", n, a, n,
              b, geometry_initialized());
  return (a == 26 && b == 30 && geometry_initialized() == 1) ? 0 : 1;
}
