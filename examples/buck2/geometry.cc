#include "examples/mixed/geometry.h"

namespace {
int initialized = 0;
// A static constructor in a library: it must run even when every call into
// this file has been inlined away and nothing references the object.
struct Init {
  Init() { ++initialized; }
} init;
}  // namespace

extern "C" int cpp_square(int x) { return x * x; }
extern "C" int geometry_initialized() { return initialized; }
