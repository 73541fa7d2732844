//===- compiler/driver/main.cpp - metronc entry point -----------------------------------------===//
#include "compiler/driver/Driver.h"

int main(int argc, char **argv) { return metron::runMetronc(argc, argv); }
