extern "C" int scale_by_three(int x) { return 3 * x; }
