#include <cstdio>
#include <cstdlib>

extern "C" {
int checked_read(int n, int past);
int add_to_max(int by);
}

int main(int argc, char**) {
  // SANITIZED_BUG=heap reads past a heap block; =overflow overflows a signed int.
  const char* bug = std::getenv("SANITIZED_BUG");
  bool heap = bug && bug[0] == 'h', overflow = bug && bug[0] == 'o';
  std::printf("read %d\n", checked_read(argc + 15, heap ? 1 : 0));
  std::printf("sum %d\n", add_to_max(overflow ? argc + 20 : argc));
  return 0;
}
