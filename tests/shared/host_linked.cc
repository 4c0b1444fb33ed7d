#include <cstdio>
extern "C" int plugin_compute(int x);
int main() {
  std::printf("linked: plugin_compute(5) = %d\n", plugin_compute(5));
  return 0;
}
