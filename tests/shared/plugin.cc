// The plugin's one entry point; everything else stays inside the library.
extern "C" int weight(int x);
extern "C" int geom_area(int w, int h);
extern "C" int plugin_compute(int x) { return weight(x) * 2 + geom_area(x, 2); }
