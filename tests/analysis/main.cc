#include "tests/analysis/lib.h"
int main() { return scale(0); }
