extern "C" int geom_area(int w, int h) { return w * h; }
