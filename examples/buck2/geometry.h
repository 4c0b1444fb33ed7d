#ifndef EXAMPLES_MIXED_GEOMETRY_H_
#define EXAMPLES_MIXED_GEOMETRY_H_

extern "C" {
// Called from Rust (stats.rs): ThinLTO inlines it into the Rust callers.
int cpp_square(int x);
// How many times the library's static constructor ran (must be 1).
int geometry_initialized();
}

#endif  // EXAMPLES_MIXED_GEOMETRY_H_
