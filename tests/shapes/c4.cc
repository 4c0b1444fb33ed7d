extern "C" int c4_value(int x) { return x + 10; }
