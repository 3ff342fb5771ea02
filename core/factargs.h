/* SPDX-License-Identifier: Apache-2.0 */
/* The arguments of `factotum run <factfile> ...` (doc/compatibility.md): parsed from a factfileArgs
 * array the way Factotum's command line would take them. */
#ifndef FS_FACTARGS_H
#define FS_FACTARGS_H

#include <stddef.h>

#include "factfile.h"
#include "kv.h"

struct factargs {
	char *start;    /* --start, or NULL ("" when given empty) */
	char *env_json; /* --env as given, or NULL */
	struct kvlist
		vars; /* template variables: --env's pairs, then "tag:<k>" per tag (tags win) */
	struct kvlist tags;        /* --tag pairs (tags_add); the job id hashes these */
	struct kvlist constraints; /* --constraint pairs (tags_add); not template variables */
	int no_colour;
	int dry_run;
	char *webhook; /* the first of webhooks, or NULL; not a separate allocation */
	/* Every --webhook in order: at most one except with FACTARGS_RUNNER_RUN, where the option
	 * may repeat (the bundled runner posts each event to each URL). Owned. */
	char **webhooks;
	size_t n_webhooks;
	/* -1 when not given. Factotum's docopt decodes an empty or all-whitespace value as 0, and
	 * takes u64 values; those above LONG_MAX are stored as LONG_MAX. */
	long max_stdouterr_size;
	long heartbeat_interval;
	/* Only with FACTARGS_RUNNER_RUN (the bundled runner's extension): --max-parallel, the most
	 * tasks running at once; -1 when not given, 0 meaning no limit. */
	long max_parallel;
	/* Only with FACTARGS_DOT: --output (or NULL) and --overwrite. */
	char *output;
	int overwrite;
};

/* Which command line is parsed: Factotum's `run` (what a foreign Factotum accepts), the bundled
 * runner's `run` (the same plus --max-parallel), `validate` or `dot`. */
enum factargs_cmd {
	FACTARGS_RUN,
	FACTARGS_RUNNER_RUN,
	FACTARGS_VALIDATE,
	FACTARGS_DOT,
};

/* Parses argv[0..argc) (the options after the factfile path) exactly as Factotum 0.7.0's docopt
 * command line and main.rs accept them (the rules are spelled out at the top of factargs.c): both
 * "--opt=value" and "--opt value", no abbreviations, a trailing "--" allowed. Rejects, with one
 * line in *errp and FS_EINVAL, in Factotum's order: an argument that is not UTF-8; an unknown flag
 * ("Unknown flag: '--x'"), an argument on a switch, a missing argument (docopt's texts); a
 * positional, a flag of another subcommand, a repeated single-valued option ("Invalid arguments:
 * ..."); a bad number ("Could not decode '<v>' to usize for '--max-stdouterr-size'."); an --env
 * that is not a JSON object of strings ("Supplied string '<json>' is not valid JSON: decoder
 * error"); --dry-run with --webhook; a webhook that is not an
 * http(s) URL ("Error: the specifed webhook URL \"<url>\" is invalid. Reason: <why>"). The one
 * deliberate difference: a \u0000 escape in --env, which Factotum takes, is refused. --dry-run
 * itself is accepted here; refusing it for queued jobs is the caller's business. On success fills
 * *fa (free with factargs_free); on failure *fa is left empty. argv is only read. */
int factargs_parse(int argc, char *const argv[], struct factargs *fa, char **errp);

/* factargs_parse for the given command's options (argv holds what follows <factfile>). A flag
 * of Factotum's usage that cmd does not take gives "Invalid arguments: '<flag>' is not an option
 * of 'factotum <cmd>'"; --max-parallel is an unknown flag except with FACTARGS_RUNNER_RUN, where
 * it decodes as a usize ("Could not decode '<v>' to usize for '--max-parallel'."), and --webhook
 * may be given more than once (each URL checked in turn). */
int factargs_parse_cmd(enum factargs_cmd cmd, int argc, char *const argv[], struct factargs *fa,
		       char **errp);

/* The --start check against a parsed factfile (only the tasks' names and depends_on are read):
 * the task exists ("The job cannot be started from '<t>' because the task specified could not be
 * found") and is a proper start ("... because the job cannot be started here without triggering
 * prior tasks"). FACTFILE_RULES_OURS uses the intended rule (every descendant's parents lie in
 * {start} ∪ descendants), FACTFILE_RULES_FACTOTUM Factotum's own is_proper_sub_tree algorithm,
 * which wrongly rejects some starts (doc/compatibility.md). Returns 0 or FS_EINVAL with *errp
 * set. */
int factargs_check_start(const struct factfile *ff, const char *start, enum factfile_rules rules,
			 char **errp);

/* Whether the first len bytes of name are an option of some Factotum command that takes a value
 * ("--tag", "--output", ...; "--max-parallel" included), for callers that only need to step over
 * options and their values. */
int factargs_takes_value(const char *name, size_t len);

void factargs_free(struct factargs *fa);

#endif
