/* SPDX-License-Identifier: Apache-2.0 */
/* The arguments of `factotum run <factfile> ...` (FACTOTUM.md §4): parsed from a factfileArgs
 * array the way Factotum's command line would take them. */
#ifndef FS_FACTARGS_H
#define FS_FACTARGS_H

#include <stddef.h>

#include "factfile.h"
#include "kv.h"

struct factargs {
	char *start;          /* --start, or NULL */
	char *env_json;       /* --env as given, or NULL */
	struct kvlist vars;   /* template variables: --env's pairs, then "tag:<k>" per tag (tags win) */
	struct kvlist tags;   /* --tag pairs (tags_add) */
	struct kvlist constraints; /* --constraint pairs */
	int no_colour;
	int dry_run;
	char *webhook;        /* or NULL */
	long max_stdouterr_size; /* -1 when not given */
	long heartbeat_interval; /* -1 when not given */
};

/* Parses argv[0..argc) (the options after the factfile path). Both "--opt=value" and "--opt value"
 * forms. Rejects unknown options, missing values, a repeated single-valued option, a bad --env
 * (must be a flat JSON object of strings), a webhook that is not http(s), a non-numeric size or
 * interval, and --dry-run with --webhook, each with one clear line in *errp (FS_EINVAL). On
 * success fills *fa (free with factargs_free). */
int factargs_parse(int argc, char *const argv[], struct factargs *fa, char **errp);

/* The --start check against a parsed factfile: the task exists and is a proper start (FACTOTUM.md
 * §4), with Factotum's messages. FACTFILE_RULES_OURS uses the intended rule, FACTFILE_RULES_FACTOTUM
 * Factotum's own is_proper_sub_tree algorithm. Returns 0 or FS_EINVAL with *errp set. */
int factargs_check_start(const struct factfile *ff, const char *start, enum factfile_rules rules,
			 char **errp);

void factargs_free(struct factargs *fa);

#endif
