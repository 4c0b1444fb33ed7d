#pragma once
extern "C" int scale(int x);
