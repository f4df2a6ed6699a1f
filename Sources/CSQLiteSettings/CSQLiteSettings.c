#include <sqlite3.h>
#include "CSQLiteSettings.h"

int clustersync_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
