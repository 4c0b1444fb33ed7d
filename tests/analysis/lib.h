#pragma once
int scale(int x);
