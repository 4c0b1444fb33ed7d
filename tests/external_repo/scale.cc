#include "scale.h"
extern "C" int scale(int x) { return 3 * x; }
