// Nothing references this library: the linker never loads it.
int never_called(int x) { return x * 13; }
