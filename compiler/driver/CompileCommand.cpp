// compiler/driver/CompileCommand.cpp — being written
