int plain_c_twice(int x) { return 2 * x; }
