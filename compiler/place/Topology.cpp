// compiler/place/Topology.cpp — being written
