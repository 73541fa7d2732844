// targets/p4/P4.cpp — being written
