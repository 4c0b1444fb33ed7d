extern "C" int r1_value(int x);
extern "C" int c1_value(int x) { return r1_value(x) + 1; }
