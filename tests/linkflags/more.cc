#include <cmath>
extern "C" double more_root(double x) { return std::sqrt(x); }
