#include <cstdio>
namespace {
// Stands for a malloc library: linked because the binary names it as its malloc.
struct Announce {
  Announce() { std::puts("announcing_malloc linked"); }
} announce;
}  // namespace
