extern "C" int offset(int x);
int main() { return offset(-1); }
