/* SPDX-License-Identifier: Apache-2.0 */
/* Building the runner's argv (see runcmd.h). Whether the request "already carries" an option is
 * decided by walking its arguments with Factotum's own grammar (core/factargs.c): an option's
 * value is never mistaken for the option (`--env --no-colour` is not a --no-colour), and a final
 * "--" (everything after it is positional) stays last so that the appended options remain
 * options. */
#include "runcmd.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "factargs.h"
#include "xalloc.h"

/* What the request's own arguments already say, and where appended options must go. */
struct runcmd_seen {
	int webhook, max_size, no_colour;
	size_t insert; /* index in args: a final "--", else n */
};

static void runcmd_scan(char *const args[], size_t n, struct runcmd_seen *seen)
{
	size_t i = 0, len;
	const char *eq;

	memset(seen, 0, sizeof(*seen));
	seen->insert = n;
	while (i < n) {
		const char *t = args[i];

		if (strcmp(t, "--") == 0) {
			seen->insert = i;
			return;
		}
		eq = strchr(t, '=');
		len = eq != NULL ? (size_t)(eq - t) : strlen(t);
		if (len == 9 && strncmp(t, "--webhook", len) == 0)
			seen->webhook = 1;
		else if (len == 20 && strncmp(t, "--max-stdouterr-size", len) == 0)
			seen->max_size = 1;
		else if (len == 11 && strncmp(t, "--no-colour", len) == 0)
			seen->no_colour = 1;
		/* "--opt value": the next argument is the value, whatever it looks like */
		i += (eq == NULL && factargs_takes_value(t, len)) ? 2 : 1;
	}
}

int runcmd_build(const struct config *cfg, const char *factfile_path, const char *args_json,
		 char ***argvp, char **errp)
{
	struct json_object *arr = NULL;
	struct runcmd_seen seen;
	char **args = NULL, **argv = NULL;
	size_t n = 0, i, k = 0;
	int rc = FS_EINVAL;

	*argvp = NULL;
	if (args_json != NULL && *args_json != '\0') {
		arr = json_tokener_parse(args_json);
		if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
			err_set(errp, FS_EINVAL, "factfileArgs is not a JSON array: %s", args_json);
			goto done;
		}
		n = json_object_array_length(arr);
	}
	args = xcalloc(n + 1, sizeof(*args));
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(s, json_type_string) ||
		    strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s)) {
			err_set(errp, FS_EINVAL, "factfileArgs[%zu] is not a string without NUL",
				i);
			goto done;
		}
		args[i] = (char *)json_object_get_string(s); /* borrowed from arr */
	}
	runcmd_scan(args, n, &seen);
	/* bin run path + args + up to 5 appended + NULL */
	argv = xcalloc(n + 9, sizeof(*argv));
	argv[k++] = xstrdup(cfg->factotum_bin);
	argv[k++] = xstrdup("run");
	argv[k++] = xstrdup(factfile_path);
	for (i = 0; i < seen.insert; i++)
		argv[k++] = xstrdup(args[i]);
	/* the bundled runner posts to every --webhook: the server's gets a client's job's events
	 * too; another runner takes one, and the responder refuses a client's next to the server's */
	if (cfg->webhook != NULL && (!seen.webhook || cfg->bundled_runner)) {
		argv[k++] = xstrdup("--webhook");
		argv[k++] = xstrdup(cfg->webhook);
	}
	/* the server's limit, also for a client's webhook (the responder refused a larger one) */
	if ((cfg->webhook != NULL || seen.webhook) && !seen.max_size) {
		argv[k++] = xstrdup("--max-stdouterr-size");
		argv[k++] = xasprintf("%d", cfg->max_stdouterr_size);
	}
	if (cfg->no_colour && !seen.no_colour)
		argv[k++] = xstrdup("--no-colour");
	for (i = seen.insert; i < n; i++)
		argv[k++] = xstrdup(args[i]);
	argv[k] = NULL;
	*argvp = argv;
	argv = NULL;
	rc = 0;
done:
	runcmd_free(argv);
	free(args);
	json_object_put(arr);
	return rc;
}

void runcmd_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

char *runcmd_json(char *const argv[])
{
	struct json_object *arr = json_object_new_array();
	char *text;
	size_t i;

	for (i = 0; argv[i] != NULL; i++)
		json_object_array_add(arr, json_object_new_string(argv[i]));
	text = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return text;
}
