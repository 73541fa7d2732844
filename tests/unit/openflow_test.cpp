// tests/unit/openflow_test.cpp — being written
#include <gtest/gtest.h>
