#ifndef CLUSTERSYNC_FUZZ_DRIVER_H
#define CLUSTERSYNC_FUZZ_DRIVER_H

/// Runs libFuzzer on the program's `LLVMFuzzerTestOneInput` with the command line's options.
int clustersync_fuzz_main(int argc, char **argv);

#endif
