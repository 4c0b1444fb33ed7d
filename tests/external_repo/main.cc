#include <cstdio>
extern "C" int offset_scaled(int x);
int main(int argc, char**) {
  std::printf("offset_scaled(%d) = %d\n", argc + 1, offset_scaled(argc + 1));
  return 0;
}
