/* SPDX-License-Identifier: Apache-2.0 */
/* IANA time zones read from the system's tzdata (TZif files), for schedules: a zone's UTC offset
 * at any instant and the instants where it changes. No libc time zone functions (they go through
 * the process-wide TZ variable): a loaded zone is immutable and may be shared between threads. */
#ifndef FS_TZINFO_H
#define FS_TZINFO_H

#include <stdint.h>

struct tzinfo;

/* Loads an IANA name ("Europe/London") from $TZDIR, else /usr/share/zoneinfo, as TZif (v1, v2 or
 * v3; after the last transition the footer's POSIX TZ rule applies); "UTC" and "Etc/UTC" are built
 * in. A name must be components of [A-Za-z0-9_+-] separated by '/' (so no "." or ".."
 * component), at most 255 bytes. 0 and *out (free with tzinfo_free), or FS_EINVAL with *errp =
 * "unknown time zone '<name>'" (a bad name, no such file), or "unknown time zone '<name>': not a
 * valid TZif file" (caller frees *errp). */
int tzinfo_load(const char *name, struct tzinfo **out, char **errp);

/* NULL is allowed. */
void tzinfo_free(struct tzinfo *tz);

/* The UTC offset in seconds (east positive) at UTC instant t. tz NULL is UTC. */
long tzinfo_offset(const struct tzinfo *tz, int64_t t);

/* The first instant after t at which the offset may change (a transition, which may also keep
 * the offset and change only the abbreviation), or INT64_MAX when there is none. tz NULL is UTC. */
int64_t tzinfo_next_change(const struct tzinfo *tz, int64_t t);

#endif
