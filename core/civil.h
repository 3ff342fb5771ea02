/* SPDX-License-Identifier: Apache-2.0 */
/* Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (Howard Hinnant's
 * days-from-civil and civil-from-days), for cron and time zone rules: no libc time functions, so
 * nothing depends on the TZ environment variable and everything is thread-safe. */
#ifndef FS_CIVIL_H
#define FS_CIVIL_H

#include <stdint.h>

/* The day number of y-m-d (m 1..12, d 1..31; d may run past the month's end). */
int64_t civil_days(int64_t y, int m, int d);

/* The date of day number days. */
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* 0 = Sunday .. 6 = Saturday, of day number days. */
int civil_weekday(int64_t days);

int civil_is_leap(int64_t y);

/* 28..31 */
int civil_month_days(int64_t y, int m);

/* floor(a / b) for b > 0, and the matching remainder in [0, b). */
int64_t civil_floordiv(int64_t a, int64_t b);
int64_t civil_floormod(int64_t a, int64_t b);

#endif
