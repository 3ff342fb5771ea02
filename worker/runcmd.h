/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's command line: `<factotum-bin> run <factfilePath> <factfileArgs…>`
 * then, in this order and only when the request does not already carry them, `--webhook <url>`
 * (the server has one; with the bundled runner also next to the request's own),
 * `--max-stdouterr-size <n>` (when there is any webhook) and `--no-colour` (the server flag). No
 * shell ever sees it. */
#ifndef FS_RUNCMD_H
#define FS_RUNCMD_H

#include "config.h"

/* Builds the argv (NULL-terminated) for a job whose factfileArgs are args_json, the JSON array
 * text the spool keeps (NULL or "" = none). Reads cfg->factotum_bin, bundled_runner, webhook,
 * max_stdouterr_size and no_colour. Returns 0 with *argvp the caller's (runcmd_free), or
 * FS_EINVAL with *errp set when args_json is not an array of strings. */
int runcmd_build(const struct config *cfg, const char *factfile_path, const char *args_json,
		 char ***argvp, char **errp);

/* Frees an argv from runcmd_build; NULL is allowed. */
void runcmd_free(char **argv);

/* The command line as recorded in the spool (spool_record_run): a JSON array of the argv's
 * strings, new text the caller frees. */
char *runcmd_json(char *const argv[]);

#endif
