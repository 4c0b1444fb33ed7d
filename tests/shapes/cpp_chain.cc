#include <cstdio>
extern "C" int c1_value(int x);
int main(int argc, char**) {
  int x = argc + 4;  // 5 when run without arguments; not a compile-time constant.
  std::printf("cpp_chain(%d) = %d\n", x, c1_value(x));
  return 0;
}
