extern "C" int r4_value(int x);
extern "C" int c3_value(int x) { return r4_value(x) * 3; }
