// tests/unit/rteflow_test.cpp — being written
#include <gtest/gtest.h>
