#include <cstdio>
extern "C" int c4_value(int x);
extern "C" int flagged_alias(int x);  // defined by the linker, from link_attrs.flags
int main(int argc, char**) {
  std::printf("link attributes %d: %d %d\n", GREETING_NUMBER, c4_value(argc), flagged_alias(argc));
  return 0;
}
