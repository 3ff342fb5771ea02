/* SPDX-License-Identifier: Apache-2.0 */
/* The /submit request: body shape (json-c) and in-process validation with core's factfile,
 * argument and job-id code. */
#include "jobreq.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "factargs.h"
#include "xalloc.h"

#define DECODE "Error decoding JSON string: "
#define INVALID "Validation Error: "

static const char *const jobreq_fields[] = { "jobName", "factfilePath", "factfileArgs" };

static const char *jobreq_kind(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "floating point number";
	case json_type_int: return "integer";
	case json_type_object: return "map";
	case json_type_array: return "sequence";
	case json_type_string: return "string";
	}
	return "value";
}

/* Line and column (1-based) of byte offset off, for parse error messages. */
static void jobreq_position(const char *s, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* The strict parse of every POST body (contract in jobreq.h). */
int jobreq_json_parse(const char *s, size_t len, struct json_object **out, char **errp)
{
	struct json_tokener *tok;
	char *copy;
	struct json_object *v;
	enum json_tokener_error e;
	size_t end, line, col;
	int rc = 0;

	*out = NULL;
	if (len >= INT_MAX)
		return err_set(errp, FS_EINVAL, "input too large");
	tok = json_tokener_new_ex(32);
	if (tok == NULL)
		abort(); /* only allocation fails here */
	copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Passing the terminating NUL tells json-c the input is complete (a bare number). */
	v = json_tokener_parse_ex(tok, copy, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	e = json_tokener_get_error(tok);
	if (e != json_tokener_success || end < len) {
		rc = FS_EINVAL;
		jobreq_position(copy, end < len ? end : len, &line, &col);
		if (e == json_tokener_success)
			err_set(errp, FS_EINVAL, "trailing characters at line %zu column %zu", line, col);
		else if (e == json_tokener_continue)
			err_set(errp, FS_EINVAL, "EOF while parsing a value at line %zu column %zu", line,
				col);
		else
			err_set(errp, FS_EINVAL, "%s at line %zu column %zu", json_tokener_error_desc(e),
				line, col);
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	free(copy);
	*out = v;
	return rc;
}

/* Counts how often each known field appears as a key of the top-level object of the valid JSON
 * text s, because json-c silently keeps the last of duplicate keys and a request with two
 * different jobNames must be refused, not guessed at. Keys are compared after unescaping. */
static void jobreq_count_keys(const char *s, size_t len, int counts[3])
{
	size_t i = 0;
	int depth = 0;

	memset(counts, 0, 3 * sizeof counts[0]);
	while (i < len) {
		char c = s[i];
		if (c == '"') {
			size_t start = i++;
			while (i < len && s[i] != '"')
				i += (s[i] == '\\') ? 2 : 1;
			i++; /* closing quote */
			if (i > len)
				break; /* cannot happen for valid JSON; never read past the text */
			if (depth != 1)
				continue;
			size_t j = i;
			while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
				j++;
			if (j >= len || s[j] != ':')
				continue; /* a value, not a key */
			struct json_object *k = NULL;
			if (jobreq_json_parse(s + start, i - start, &k, NULL) == 0 &&
			    json_object_is_type(k, json_type_string)) {
				for (int f = 0; f < 3; f++)
					if (strcmp(json_object_get_string(k), jobreq_fields[f]) == 0 &&
					    (size_t)json_object_get_string_len(k) == strlen(jobreq_fields[f]))
						counts[f]++;
			}
			json_object_put(k);
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		i++;
	}
}

/* The string value of field in obj, copied; "" error when absent/wrong type is the caller's. */
static int jobreq_string_field(struct json_object *obj, const char *field, int required,
			       char **out, char **errp)
{
	struct json_object *v;
	size_t n;

	*out = NULL;
	if (!json_object_object_get_ex(obj, field, &v))
		return required ? err_set(errp, FS_EINVAL, DECODE "missing field `%s`", field) : 0;
	if (!json_object_is_type(v, json_type_string))
		return err_set(errp, FS_EINVAL, DECODE "invalid type: %s, expected a string for field `%s`",
			       jobreq_kind(v), field);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(json_object_get_string(v), '\0', n) != NULL)
		return err_set(errp, FS_EINVAL, DECODE "field `%s` contains a NUL character", field);
	*out = xstrndup(json_object_get_string(v), n);
	return 0;
}

int jobreq_parse(const char *body, size_t len, struct job_request *req, char **errp)
{
	struct json_object *root = NULL, *args;
	char *detail = NULL;
	int counts[3], rc = FS_EINVAL;

	memset(req, 0, sizeof *req);
	if (len == 0)
		return err_set(errp, FS_EINVAL, "Error: No body found in POST request");
	if (jobreq_json_parse(body, len, &root, &detail) != 0) {
		err_set(errp, FS_EINVAL, DECODE "%s", detail);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		err_set(errp, FS_EINVAL, DECODE "invalid type: %s, expected struct JobRequest",
			jobreq_kind(root));
		goto out;
	}
	jobreq_count_keys(body, len, counts);
	for (int f = 0; f < 3; f++) {
		if (counts[f] > 1) {
			err_set(errp, FS_EINVAL, DECODE "duplicate field `%s`", jobreq_fields[f]);
			goto out;
		}
	}
	if (jobreq_string_field(root, "jobName", 1, &req->job_name, errp) != 0 ||
	    jobreq_string_field(root, "factfilePath", 1, &req->factfile_path, errp) != 0)
		goto out;
	if (json_object_object_get_ex(root, "factfileArgs", &args)) {
		if (!json_object_is_type(args, json_type_array)) {
			err_set(errp, FS_EINVAL,
				DECODE "invalid type: %s, expected a sequence of strings for field `factfileArgs`",
				jobreq_kind(args));
			goto out;
		}
		size_t n = json_object_array_length(args);
		req->args = xcalloc(n + 1, sizeof *req->args);
		for (size_t i = 0; i < n; i++) {
			struct json_object *a = json_object_array_get_idx(args, i);
			if (!json_object_is_type(a, json_type_string)) {
				err_set(errp, FS_EINVAL,
					DECODE "invalid type: %s, expected a string in `factfileArgs` at index %zu",
					jobreq_kind(a), i);
				goto out;
			}
			size_t alen = (size_t)json_object_get_string_len(a);
			if (memchr(json_object_get_string(a), '\0', alen) != NULL) {
				err_set(errp, FS_EINVAL,
					DECODE "`factfileArgs` at index %zu contains a NUL character", i);
				goto out;
			}
			req->args[i] = xstrndup(json_object_get_string(a), alen);
			req->n_args++;
		}
		req->args_json = xstrdup(json_object_to_json_string_ext(args,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		req->args = xcalloc(1, sizeof *req->args);
		req->args_json = xstrdup("[]");
	}
	rc = 0;
out:
	if (rc != 0)
		jobreq_free(req);
	json_object_put(root);
	free(detail);
	return rc;
}

/* 1 if resolved (a realpath) lies inside one of the roots (realpaths). */
static int jobreq_inside_roots(const char *resolved, const struct jobreq_policy *policy)
{
	for (size_t i = 0; i < policy->n_roots; i++) {
		const char *root = policy->roots[i];
		size_t n = strlen(root);
		if (n == 1 && root[0] == '/')
			return 1;
		if (strncmp(resolved, root, n) == 0 && resolved[n] == '/')
			return 1;
	}
	return 0;
}

/* The path checks, in SERVER.md's order: absolute, exists, inside the roots, a regular file of
 * sane size (a FIFO or device would hang or flood the validation). Directories are left to
 * factfile_load, which answers with Factotum's own "Is a directory" message. */
static int jobreq_check_path(const char *path, const struct jobreq_policy *policy, char **errp)
{
	char resolved[PATH_MAX];
	struct stat st;

	if (path[0] != '/')
		return err_set(errp, FS_EINVAL, INVALID "factfilePath '%s' must be an absolute path",
			       path);
	if (stat(path, &st) != 0 || realpath(path, resolved) == NULL)
		return err_set(errp, FS_EINVAL,
			       INVALID "Value does not exist on host for 'factfilePath':'%s'", path);
	if (policy->n_roots > 0 && !jobreq_inside_roots(resolved, policy))
		return err_set(errp, FS_EINVAL,
			       INVALID "factfilePath '%s' is outside the allowed roots", path);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return err_set(errp, FS_EINVAL, INVALID "factfilePath '%s' is not a regular file",
			       path);
	if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > JOBREQ_MAX_FACTFILE)
		return err_set(errp, FS_EINVAL,
			       INVALID "factfilePath '%s' is too large (more than %u bytes)", path,
			       JOBREQ_MAX_FACTFILE);
	return 0;
}

int jobreq_validate(struct job_request *req, const struct jobreq_policy *policy, char **errp)
{
	struct factargs fa;
	struct factfile ff;
	char *detail = NULL;
	int have_fa = 0, have_ff = 0, rc = FS_EINVAL;

	if (req->job_name[0] == '\0')
		return err_set(errp, FS_EINVAL,
			       INVALID "No valid value found: field 'jobName' cannot be empty");
	if (req->factfile_path[0] == '\0')
		return err_set(errp, FS_EINVAL,
			       INVALID "No valid value found: field 'factfilePath' cannot be empty");
	if (jobreq_check_path(req->factfile_path, policy, errp) != 0)
		return FS_EINVAL;
	/* Arguments first, as Factotum's command line is parsed before the factfile is read: the
	 * factfile is templated with the variables the arguments define. */
	if (factargs_parse((int)req->n_args, req->args, &fa, &detail) != 0)
		goto fail;
	have_fa = 1;
	if (fa.dry_run) {
		err_set(&detail, FS_EINVAL, "--dry-run cannot be used for a queued job");
		goto fail;
	}
	if (factfile_load(req->factfile_path, &fa.vars, policy->rules, &ff, &detail) != 0)
		goto fail;
	have_ff = 1;
	if (fa.start != NULL && factargs_check_start(&ff, fa.start, policy->rules, &detail) != 0)
		goto fail;
	jobid_compute(ff.compact, ff.compact_len, &fa.tags, req->id);
	rc = 0;
fail:
	if (rc != 0)
		err_set(errp, FS_EINVAL, INVALID "%s", detail ? detail : "invalid request");
	if (have_ff)
		factfile_free(&ff);
	if (have_fa)
		factargs_free(&fa);
	free(detail);
	return rc;
}

void jobreq_free(struct job_request *req)
{
	free(req->job_name);
	free(req->factfile_path);
	for (size_t i = 0; i < req->n_args; i++)
		free(req->args[i]);
	free(req->args);
	free(req->args_json);
	memset(req, 0, sizeof *req);
}
