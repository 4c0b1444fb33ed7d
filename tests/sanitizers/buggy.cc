#include <climits>
#include <cstdlib>

// Reads one element past the end of a heap block when `past` is set.
extern "C" int heap_read(int n, int past) {
  int* v = static_cast<int*>(std::malloc(sizeof(int) * n));
  for (int i = 0; i < n; ++i) v[i] = i;
  int x = v[n - 1 + past];
  std::free(v);
  return x;
}

// Overflows a signed int when `by` is large.
extern "C" int add_to_max(int by) { return (INT_MAX - 10) + by; }
