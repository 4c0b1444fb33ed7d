#include <cstdio>

namespace {
// A static constructor in a member nothing references: linked whole, it must run.
struct Register {
  Register() { std::puts("registered.cc: constructor ran"); }
} registered;
}  // namespace
