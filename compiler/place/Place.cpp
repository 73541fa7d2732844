// compiler/place/Place.cpp — being written
