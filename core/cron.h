/* SPDX-License-Identifier: Apache-2.0 */
/* Cron expressions for schedules: parsing, and the next slot of an expression in a time zone. A
 * parsed expression is immutable and may be shared between threads. */
#ifndef FS_CRON_H
#define FS_CRON_H

#include <stdint.h>

#include "tzinfo.h"

struct cron; /* a parsed expression */

/* Parses expr: 5 fields (minute hour day-of-month month day-of-week), or 6 with a leading seconds
 * field, separated by spaces or tabs. A field is a list of `*`, values and ranges, each with an
 * optional step `/n` (`1-10/2`; after `*` or a single value, from there to the field's end by n),
 * months JAN..DEC and days SUN..SAT in any case; 0 and 7 are Sunday. @hourly @daily (@midnight)
 * @weekly @monthly @yearly (@annually) stand for their usual 5 fields. 0 and *out (free with
 * cron_free), or FS_EINVAL with *errp = "invalid cron expression '<expr>': <why>" (caller frees):
 * `L`, `W`, `#` and `?` are refused with a message naming them; out-of-range values, reversed
 * ranges, steps of 0 or longer than the field, unknown names and macros with one naming the
 * field. */
int cron_parse(const char *expr, struct cron **out, char **errp);

/* NULL is allowed. */
void cron_free(struct cron *c);

/* Whether the expression has a seconds field. */
int cron_has_seconds(const struct cron *c);

/* The first slot strictly after `after` (UTC seconds since the epoch) of c in tz (NULL: UTC), as
 * a UTC instant; INT64_MAX when there is none within 5 years (`0 0 30 2 *`). Local wall-clock
 * times matching c that fall in a daylight saving gap merge into ONE slot at the gap's end (the
 * first valid local instant); in a repeated (fall-back) hour only the first occurrence fires. The
 * day rule of Vixie cron: when both day-of-month and day-of-week are restricted (neither field
 * starts with `*`), a day matching either fires; otherwise a day must match both. */
int64_t cron_next(const struct cron *c, const struct tzinfo *tz, int64_t after);

#endif
