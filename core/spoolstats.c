/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the spool's outcome ring (spoolstats.h). */
#include "spoolstats.h"

#include <sqlite3.h>
#include <stddef.h>

#include "err.h"
#include "spooldb.h"

static const char ring_sql[] =
	"SELECT slot, start_ms, succeeded, failed FROM outcome_ring WHERE span = ?1 AND slots = ?2";

int spoolstats_window(struct spool *sp, int64_t span_ms, int slots, int64_t now_ms,
		      struct statring_slot *out, char **errp)
{
	struct statring_slot stored[STATRING_SLOTS_MAX];
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int src, slot, rc = 0, i;

	if (!((span_ms == STATRING_MINUTE_MS && slots == STATRING_MINUTE_SLOTS) ||
	      (span_ms == STATRING_HOUR_MS && slots == STATRING_HOUR_SLOTS)))
		return err_set(errp, FS_EINVAL, "spool: stats: no ring of %d slots of %lld ms",
			       slots, (long long)span_ms);
	for (i = 0; i < slots; i++)
		stored[i] = (struct statring_slot){ .start_ms = -1 };
	db = spool_db_acquire(sp);
	src = sqlite3_prepare_v2(db, ring_sql, -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 1, span_ms);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int(st, 2, slots);
	while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
		slot = sqlite3_column_int(st, 0);
		if (slot >= 0 && slot < slots)
			stored[slot] = (struct statring_slot){
				.start_ms = sqlite3_column_int64(st, 1),
				.succeeded = sqlite3_column_int64(st, 2),
				.failed = sqlite3_column_int64(st, 3),
			};
		src = SQLITE_OK;
	}
	if (src != SQLITE_DONE)
		rc = err_set(errp, (src & 0xff) == SQLITE_BUSY ? FS_EBUSY : FS_EIO,
			     "spool: stats: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	spool_db_release(sp);
	if (rc == 0)
		statring_window(stored, slots, span_ms, now_ms, out);
	return rc;
}
