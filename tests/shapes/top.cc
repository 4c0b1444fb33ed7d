extern "C" int left_value(int x);
extern "C" int right_value(int x);
extern "C" int top_value(int x) { return left_value(x) + right_value(x); }
