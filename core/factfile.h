/* SPDX-License-Identifier: Apache-2.0 */
/* Factfile parsing and validation exactly as Factotum 0.7.0 (doc/compatibility.md), with
 * templating applied where Factotum applies it, and the compact text the job id hashes. */
#ifndef FS_FACTFILE_H
#define FS_FACTFILE_H

#include <stddef.h>

#include "kv.h"
#include "strmap.h"
#include "template.h"

/* Which runner's rules apply to the task graph. */
enum factfile_rules {
	FACTFILE_RULES_OURS,     /* bundled runner: dependencies in any order, cycles rejected */
	FACTFILE_RULES_FACTOTUM, /* a foreign Factotum: a dependency must be defined earlier */
};

struct factfile_task {
	char *name;       /* templated */
	char *executor;   /* as written */
	char *command;    /* as written: Factotum does not template it */
	char **arguments; /* templated */
	size_t n_arguments;
	/* per argument: the bytes a template variable put there (indices into the vars parsed
	 * with), for the --template-values check */
	struct template_spans *arg_spans;
	char **depends_on; /* templated */
	size_t n_depends_on;
	int *terminate_codes; /* onResult.terminateJobWithSuccess */
	size_t n_terminate;
	int *continue_codes; /* onResult.continueJob */
	size_t n_continue;
};

struct factfile {
	char *name;                  /* templated job name */
	struct factfile_task *tasks; /* in file order */
	size_t n_tasks;
	/* The compact re-encoding (fixed key order, no whitespace) rendered with the variables: the
	 * text the job id hashes and webhooks carry as base64. NUL-terminated; contains no NUL. */
	char *compact;
	size_t compact_len;
	/* task name -> index, for factfile_find_task; NULL in a factfile built by hand */
	struct strmap *index;
};

/* Parses and validates the factfile text buf (len bytes, any bytes) that was read from path (used
 * only in messages), rendering templates with vars (may be empty; NULL means no templating at all,
 * as Factotum's `dot` parses: names and the compact text are taken as written). On success returns
 * 0 and fills *ff (free with factfile_free). On failure returns FS_EINVAL and sets *errp to the
 * complete message Factotum prints, e.g. "'<path>' is not a valid factotum factfile: ..." (several
 * lines joined with '\n' for several schema problems); *ff is left empty. */
int factfile_parse(const char *buf, size_t len, const char *path, const struct kvlist *vars,
		   enum factfile_rules rules, struct factfile *ff, char **errp);

/* Reads the whole of path into *bufp (NUL-terminated, *lenp bytes before the NUL; the caller
 * frees it), with factfile_load's read errors. */
int factfile_read(const char *path, char **bufp, size_t *lenp, char **errp);

/* Reads path and parses it as factfile_parse does; read errors give Factotum's messages
 * ("Couldn't open '<path>' for reading: ..." / "Couldn't read '<path>': ..."). */
int factfile_load(const char *path, const struct kvlist *vars, enum factfile_rules rules,
		  struct factfile *ff, char **errp);

/* Index of the task named name, or -1: constant time in a parsed factfile (a linear search in one
 * built by hand, without an index). */
long factfile_find_task(const struct factfile *ff, const char *name);

void factfile_free(struct factfile *ff);

#endif
