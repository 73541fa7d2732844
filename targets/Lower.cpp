// targets/Lower.cpp — being written
