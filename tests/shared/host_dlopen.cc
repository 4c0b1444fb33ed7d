#include <dlfcn.h>
#include <cstdio>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "tests/shared/libplugin.so";
  void* lib = dlopen(path, RTLD_NOW);
  if (!lib) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  auto compute = reinterpret_cast<int (*)(int)>(dlsym(lib, "plugin_compute"));
  if (!compute) {
    std::fprintf(stderr, "dlsym: %s\n", dlerror());
    return 1;
  }
  std::printf("dlopen: plugin_compute(5) = %d\n", compute(5));
  return 0;
}
