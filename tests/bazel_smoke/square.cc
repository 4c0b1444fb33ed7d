#include "tests/bazel_smoke/square.h"

int square(int x) { return x * x; }
