// tests/unit/topology_test.cpp — being written
#include <gtest/gtest.h>
