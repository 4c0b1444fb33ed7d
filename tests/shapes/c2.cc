extern "C" int r2_value(int x);
extern "C" int c2_value(int x) { return r2_value(x) + 3; }
