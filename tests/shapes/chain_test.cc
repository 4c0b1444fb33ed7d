#include <cstdio>
#include <cstdlib>
extern "C" int c1_value(int x);
int main(int argc, char** argv) {
  int x = argc > 1 ? std::atoi(argv[1]) : 0;
  const char* expected = std::getenv("CHAIN_EXPECTED");
  int got = c1_value(x);
  std::printf("c1_value(%d) = %d, expected %s\n", x, got, expected ? expected : "(unset)");
  return expected && got == std::atoi(expected) ? 0 : 1;
}
