/* SPDX-License-Identifier: Apache-2.0 */
/* --template-values strict: where a submitter's template values (--tag, --env) land in each task's
 * shell command line, and whether sh could read them as anything but data (doc/api.md has the
 * answers, doc/security.md the guarantee). */
#ifndef FS_TMPLCHECK_H
#define FS_TMPLCHECK_H

#include <stddef.h>

#include "factfile.h"
#include "kv.h"
#include "template.h"

/* Why a byte from a value was refused. */
enum tmplcheck_why {
	TMPLCHECK_OK = 0,
	TMPLCHECK_IN_DQ,        /* '"', '$', '`' or '\' inside double quotes */
	TMPLCHECK_OUTSIDE_DQ,   /* outside double quotes and not in [A-Za-z0-9._:/@%+=,-] */
	TMPLCHECK_AFTER_DOLLAR, /* right after an unquoted-or-double-quoted '$', not allow-listed */
	TMPLCHECK_UNSURE,       /* after a construct the scan does not follow, not allow-listed */
};

/* Reads line (len bytes) as POSIX sh reads the word syntax of a command line -- unquoted, '...',
 * "...", backslash escapes as each of those defines them, $(...) and $((...)) nested with their
 * own quoting, ${...}, comments -- and judges each byte inside spans (offsets in line, increasing,
 * not overlapping: the bytes that came from template values): inside double quotes it must not be
 * '"', '$', '`' or '\'; anywhere else, or right after a '$' that starts an expansion, it must be
 * one of [A-Za-z0-9._:/@%+=,-]. After a backtick, a comment, '<<', $'...', a quote inside ${...}
 * or `case` inside $(...), whose parsing differs between shells or needs more than this scan,
 * every later value byte must be allow-listed. Returns TMPLCHECK_OK, or the reason for the first
 * refused byte with its offset in *at and its span's index in *span. Linear time. */
enum tmplcheck_why tmplcheck_line(const char *line, size_t len, const struct template_span *spans,
				  size_t n_spans, size_t *at, size_t *span);

/* Checks the command line of every task of ff, which factfile_parse filled with vars (the same
 * list: spans index it). Returns 0, or FS_EINVAL with *errp (if errp) set to one line naming the
 * task, the variable and the character, e.g. "task 'x': the value of 'tag:q' puts '$' inside
 * double quotes in the command line; ..." (the texts are in doc/api.md). Costs nothing beyond a
 * scan of vars when every value is allow-listed, and a task without values is not scanned. */
int tmplcheck_factfile(const struct factfile *ff, const struct kvlist *vars, char **errp);

#endif
