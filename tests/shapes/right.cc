extern "C" int base_square(int x);
extern "C" int right_value(int x) { return base_square(x) + 21; }
