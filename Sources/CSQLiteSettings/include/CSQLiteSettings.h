#ifndef CSQLITE_SETTINGS_H
#define CSQLITE_SETTINGS_H

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS): with them on, every
/// allocation SQLite makes takes and releases a process-wide mutex, a tenth of the
/// instructions of applying a change here (Sources/clustersync-bench/MEASUREMENTS.md,
/// thirty-second session). Nothing in ClusterSync reads those statistics or sets a soft heap
/// limit, which needs them. Returns SQLite's result: SQLITE_MISUSE (21) once SQLite is
/// initialised, when the setting can no longer change.
///
/// A function of its own because `sqlite3_config` is variadic, which Swift cannot call.
int clustersync_sqlite3_disable_memory_statistics(void);

#endif
