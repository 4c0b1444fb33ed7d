extern "C" int target_fn(int x) { return x + 100; }
