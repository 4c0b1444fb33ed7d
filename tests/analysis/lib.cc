#include "tests/analysis/lib.h"
int scale(int x) { return 3 * x; }
