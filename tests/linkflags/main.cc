#include <cstdio>
// Defined only by the linker (--defsym), from the libraries' and the binary's linkopts.
extern "C" int alias_one(int), alias_two(int), alias_three(int), alias_four(int);
extern "C" double more_root(double x);
int main(int argc, char**) {
  std::printf("%d %d %d %d %.1f\n", alias_one(argc), alias_two(argc), alias_three(argc), alias_four(argc), more_root(16.0 * argc));
  return 0;
}
