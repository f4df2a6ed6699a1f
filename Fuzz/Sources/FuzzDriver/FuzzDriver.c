// SwiftPM links an executable on Linux with `main` aliased to `<Module>_main`, so libFuzzer's own
// `main` is never used: each fuzz target defines `<Module>_main` and calls this, which hands the
// command line to libFuzzer's driver.
#include <stddef.h>
#include <stdint.h>
#include "FuzzDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int clustersync_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
