#include <cstdio>
extern "C" int top_value(int x);
int main(int argc, char**) {
  int x = argc + 4;
  std::printf("diamond(%d) = %d\n", x, top_value(x));
  return top_value(x) == 57 ? 0 : 1;
}
