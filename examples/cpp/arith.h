#ifndef EXAMPLES_CPP_ARITH_H_
#define EXAMPLES_CPP_ARITH_H_

int square(int x);
int cube(int x);

#endif  // EXAMPLES_CPP_ARITH_H_
