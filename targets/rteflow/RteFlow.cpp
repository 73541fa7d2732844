// targets/rteflow/RteFlow.cpp — being written
