// tests/unit/p4_test.cpp — being written
#include <gtest/gtest.h>
