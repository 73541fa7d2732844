// targets/openflow/OpenFlow.cpp — being written
