/* SPDX-License-Identifier: Apache-2.0 */
/* The /submit request: body shape (json-c) and in-process validation with core's factfile,
 * argument and job-id code. */
#include "jobreq.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argpolicy.h"
#include "clock.h"
#include "err.h"
#include "factargs.h"
#include "utf8.h"
#include "tmplcheck.h"
#include "xalloc.h"

#define DECODE  "Error decoding JSON string: "
#define INVALID "Validation Error: "

static const char *const jobreq_fields[] = { "jobName", "factfilePath", "factfileArgs" };

const char *jobreq_json_kind(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
		return "floating point number";
	case json_type_int:
		return "integer";
	case json_type_object:
		return "map";
	case json_type_array:
		return "sequence";
	case json_type_string:
		return "string";
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

/* jobreq_json_parse with json-c's tokener flags given. */
static int jobreq_json_parse_flags(const char *s, size_t len, int flags, struct json_object **out,
				   char **errp)
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
	json_tokener_set_flags(tok, flags);
	/* Passing the terminating NUL tells json-c the input is complete (a bare number). */
	v = json_tokener_parse_ex(tok, copy, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	e = json_tokener_get_error(tok);
	if (e != json_tokener_success || end < len) {
		rc = FS_EINVAL;
		jobreq_position(copy, end < len ? end : len, &line, &col);
		if (e == json_tokener_success)
			err_set(errp, FS_EINVAL, "trailing characters at line %zu column %zu", line,
				col);
		else if (e == json_tokener_continue)
			err_set(errp, FS_EINVAL, "EOF while parsing a value at line %zu column %zu",
				line, col);
		else
			err_set(errp, FS_EINVAL, "%s at line %zu column %zu",
				json_tokener_error_desc(e), line, col);
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	free(copy);
	*out = v;
	return rc;
}

int jobreq_json_parse(const char *s, size_t len, struct json_object **out, char **errp)
{
	return jobreq_json_parse_flags(s, len, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8,
				       out, errp);
}

/* Cuts b back to its first len bytes. */
static void jobreq_buf_cut(struct buf *b, size_t len)
{
	if (b->data != NULL)
		b->data[len] = '\0';
	b->len = len;
}

/* Appends to path where the first string of v (a key or a value) that is not valid UTF-8 is: a
 * member by its key, after a '.' below the top level, an element by "[index]". Returns 1 when
 * there is one. */
static int jobreq_utf8_find(struct json_object *v, struct buf *path)
{
	size_t mark = path->len, i, n;

	if (json_object_is_type(v, json_type_string))
		return !utf8_valid(json_object_get_string(v),
				   (size_t)json_object_get_string_len(v));
	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			buf_printf(path, "[%zu]", i);
			if (jobreq_utf8_find(json_object_array_get_idx(v, i), path))
				return 1;
			jobreq_buf_cut(path, mark);
		}
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val)
		{
			if (mark > 0)
				buf_putc(path, '.');
			if (!utf8_valid(key, strlen(key))) {
				utf8_sanitize(path, key, strlen(key));
				return 1;
			}
			buf_puts(path, key);
			if (jobreq_utf8_find(val, path))
				return 1;
			jobreq_buf_cut(path, mark);
		}
	}
	return 0;
}

/* The parse of a request body (contract in jobreq.h). json-c's own UTF-8 check is left out: it
 * lets overlongs, surrogates and values above U+10FFFF through, turns lone-surrogate escapes into
 * U+FFFD, and cannot say which field held the bytes. Valid JSON is ASCII outside its strings, so
 * a body that is valid UTF-8 without lone-surrogate escapes has only valid strings; otherwise
 * the tree is searched for the field to name. */
int jobreq_body_parse(const char *body, size_t len, struct json_object **out, char **errp)
{
	struct json_object *v = NULL;
	struct buf path;
	char *detail = NULL, *marked = NULL;
	size_t marked_len = 0;
	int rc = FS_EINVAL;

	*out = NULL;
	buf_init(&path);
	if (jobreq_json_parse_flags(body, len, JSON_TOKENER_STRICT, &v, &detail) != 0) {
		err_set(errp, FS_EINVAL, DECODE "%s", detail);
		goto done;
	}
	if (utf8_json_surrogates(body, len, NULL, NULL) > 0) {
		/* again with each lone surrogate as ill-formed bytes that the search finds */
		marked = xmalloc(len);
		utf8_json_surrogates(body, len, marked, &marked_len);
		json_object_put(v);
		v = NULL;
		jobreq_json_parse_flags(marked, marked_len, JSON_TOKENER_STRICT, &v, NULL);
	} else if (utf8_valid(body, len)) {
		*out = v;
		v = NULL;
		rc = 0;
		goto done;
	}
	/* nothing named: a bare string, or the bytes were in a value json-c dropped because its
	 * key came again */
	if (!jobreq_utf8_find(v, &path) || path.len == 0)
		err_set(errp, FS_EINVAL, "Error: invalid UTF-8 in body");
	else
		err_set(errp, FS_EINVAL, "Error: invalid UTF-8 in %s", path.data);
done:
	json_object_put(v);
	buf_free(&path);
	free(detail);
	free(marked);
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
			while (j < len &&
			       (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
				j++;
			if (j >= len || s[j] != ':')
				continue; /* a value, not a key */
			/* A key without a backslash is its bytes: compare them directly, because
			 * every json-c parse costs a locale copy under libc's global lock. */
			if (memchr(s + start + 1, '\\', i - start - 2) == NULL) {
				for (int f = 0; f < 3; f++)
					if (i - start - 2 == strlen(jobreq_fields[f]) &&
					    memcmp(s + start + 1, jobreq_fields[f],
						   i - start - 2) == 0)
						counts[f]++;
				continue;
			}
			struct json_object *k = NULL;
			if (jobreq_json_parse(s + start, i - start, &k, NULL) == 0 &&
			    json_object_is_type(k, json_type_string)) {
				for (int f = 0; f < 3; f++)
					if (strcmp(json_object_get_string(k), jobreq_fields[f]) ==
						    0 &&
					    (size_t)json_object_get_string_len(k) ==
						    strlen(jobreq_fields[f]))
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
static int jobreq_string_field(struct json_object *obj, const char *field, int required, char **out,
			       char **errp)
{
	struct json_object *v;
	size_t n;

	*out = NULL;
	if (!json_object_object_get_ex(obj, field, &v))
		return required ? err_set(errp, FS_EINVAL, DECODE "missing field `%s`", field) : 0;
	if (!json_object_is_type(v, json_type_string))
		return err_set(errp, FS_EINVAL,
			       DECODE "invalid type: %s, expected a string for field `%s`",
			       jobreq_json_kind(v), field);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(json_object_get_string(v), '\0', n) != NULL)
		return err_set(errp, FS_EINVAL, DECODE "field `%s` contains a NUL character",
			       field);
	*out = xstrndup(json_object_get_string(v), n);
	return 0;
}

int jobreq_parse(const char *body, size_t len, struct job_request *req, char **errp)
{
	struct json_object *root = NULL, *args;
	int counts[3], rc = FS_EINVAL;

	memset(req, 0, sizeof *req);
	if (len == 0)
		return err_set(errp, FS_EINVAL, "Error: No body found in POST request");
	if (jobreq_body_parse(body, len, &root, errp) != 0)
		goto out;
	if (!json_object_is_type(root, json_type_object)) {
		err_set(errp, FS_EINVAL, DECODE "invalid type: %s, expected struct JobRequest",
			jobreq_json_kind(root));
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
	if (strlen(req->job_name) > JOBREQ_MAX_JOB_NAME) {
		err_set(errp, FS_EINVAL, "Error: jobName is longer than %d bytes",
			JOBREQ_MAX_JOB_NAME);
		goto out;
	}
	if (json_object_object_get_ex(root, "factfileArgs", &args)) {
		if (!json_object_is_type(args, json_type_array)) {
			err_set(errp, FS_EINVAL,
				DECODE
				"invalid type: %s, expected a sequence of strings for field `factfileArgs`",
				jobreq_json_kind(args));
			goto out;
		}
		size_t n = json_object_array_length(args);
		req->args = xcalloc(n + 1, sizeof *req->args);
		for (size_t i = 0; i < n; i++) {
			struct json_object *a = json_object_array_get_idx(args, i);
			if (!json_object_is_type(a, json_type_string)) {
				err_set(errp, FS_EINVAL,
					DECODE
					"invalid type: %s, expected a string in `factfileArgs` at index %zu",
					jobreq_json_kind(a), i);
				goto out;
			}
			size_t alen = (size_t)json_object_get_string_len(a);
			if (memchr(json_object_get_string(a), '\0', alen) != NULL) {
				err_set(errp, FS_EINVAL,
					DECODE
					"`factfileArgs` at index %zu contains a NUL character",
					i);
				goto out;
			}
			req->args[i] = xstrndup(json_object_get_string(a), alen);
			req->n_args++;
		}
		req->args_json = xstrdup(
			json_object_to_json_string_ext(args,
						       JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		req->args = xcalloc(1, sizeof *req->args);
		req->args_json = xstrdup("[]");
	}
	rc = 0;
out:
	if (rc != 0)
		jobreq_free(req);
	json_object_put(root);
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

/* The path checks, in the order /submit answers them: absolute, exists, inside the roots, a
 * regular file of sane size (a FIFO or device would hang or flood the validation), readable by
 * the run user. Directories are left to factfile_load, which answers with Factotum's own "Is a
 * directory" message. */
static int jobreq_check_path(const char *path, const struct jobreq_policy *policy, char **errp)
{
	char resolved[PATH_MAX];
	struct stat st;
	int rc, link = 0;

	if (path[0] != '/')
		return err_set(errp, FS_EINVAL,
			       INVALID "factfilePath '%s' must be an absolute path", path);
	/* lstat first: the run user's check below reuses it when path is not a symlink */
	if ((rc = lstat(path, &st)) == 0 && S_ISLNK(st.st_mode)) {
		link = 1;
		rc = stat(path, &st);
	}
	/* the canonical path only matters against roots (realpath costs a readlink per
	 * component, for every /submit) */
	if (rc != 0 || (policy->n_roots > 0 && realpath(path, resolved) == NULL))
		return err_set(errp, FS_EINVAL,
			       INVALID "Value does not exist on host for 'factfilePath':'%s'",
			       path);
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
	/* the run reads the file again as its own user: refuse now what it would fail on later */
	if (policy->run != NULL && S_ISREG(st.st_mode) &&
	    !runident_can_read(policy->run, path, link ? NULL : &st))
		return err_set(errp, FS_EINVAL,
			       INVALID "factfilePath '%s' is not readable by the run user '%s'",
			       path, policy->run->name);
	return 0;
}

/* One cached validation: the identity of the file read, what it was parsed with, and the
 * compact text it gave (contract at jobreq_cache_new). */
struct jobreq_cache_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	enum factfile_rules rules;
	char *start;   /* the --start task checked, owned; NULL for none */
	int templated; /* the text may hold a mustache tag: the variables are part of the key */
	char *vars;    /* jobreq_vars_key of the template variables, owned */
	size_t vars_len;
	char *compact; /* owned */
	size_t compact_len;
	size_t n_tasks; /* checked against --max-tasks at each use */
	char *raw;      /* the file's bytes, owned */
	size_t raw_len;
	char sha[JOBID_LEN + 1]; /* SHA-256 of raw, hex */
};

struct jobreq_cache {
	pthread_mutex_t mu;
	struct jobreq_cache_entry e[JOBREQ_CACHE_SIZE];
	size_t next; /* the entry the next insertion replaces (round robin) */
};

struct jobreq_cache *jobreq_cache_new(void)
{
	struct jobreq_cache *c = xcalloc(1, sizeof *c);

	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void jobreq_cache_free(struct jobreq_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < JOBREQ_CACHE_SIZE; i++) {
		free(c->e[i].vars);
		free(c->e[i].start);
		free(c->e[i].compact);
		free(c->e[i].raw);
	}
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* The variables as one byte string, key NUL value NUL in list order (a new buffer): keys and
 * values hold no NUL, so two lists give the same string only if they are equal. */
static char *jobreq_vars_key(const struct kvlist *vars, size_t *lenp)
{
	size_t len = 0, off = 0, k, v;
	char *s;

	for (size_t i = 0; i < vars->n; i++)
		len += strlen(vars->items[i].key) + strlen(vars->items[i].value) + 2;
	s = xmalloc(len + 1);
	for (size_t i = 0; i < vars->n; i++) {
		k = strlen(vars->items[i].key) + 1;
		v = strlen(vars->items[i].value) + 1;
		memcpy(s + off, vars->items[i].key, k);
		memcpy(s + off + k, vars->items[i].value, v);
		off += k + v;
	}
	*lenp = len;
	return s;
}

static int jobreq_same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* 1 if st's mtime and ctime are JOBREQ_CACHE_SETTLED_S or more seconds before now. */
static int jobreq_settled(const struct stat *st)
{
	int64_t now = clock_real_ms() / 1000;

	return st->st_mtim.tv_sec + JOBREQ_CACHE_SETTLED_S <= now &&
	       st->st_ctim.tv_sec + JOBREQ_CACHE_SETTLED_S <= now;
}

static int jobreq_entry_matches(const struct jobreq_cache_entry *e, const struct stat *st,
				enum factfile_rules rules, const char *start, const char *vars,
				size_t vars_len)
{
	return e->compact != NULL && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size && jobreq_same_time(&e->mtim, &st->st_mtim) &&
	       jobreq_same_time(&e->ctim, &st->st_ctim) && e->rules == rules &&
	       (e->start == NULL ? start == NULL : start != NULL && strcmp(e->start, start) == 0) &&
	       (!e->templated || (e->vars_len == vars_len && memcmp(e->vars, vars, vars_len) == 0));
}

/* The cached compact text for (st, rules, start, vars) as a new string, or NULL; *rawp receives
 * a copy of the file's bytes (*raw_lenp long), sha their hash. */
static char *jobreq_cache_get(struct jobreq_cache *c, const struct stat *st,
			      enum factfile_rules rules, const char *start, const char *vars,
			      size_t vars_len, size_t *lenp, size_t *n_tasksp, char **rawp,
			      size_t *raw_lenp, char sha[JOBID_LEN + 1])
{
	char *compact = NULL;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < JOBREQ_CACHE_SIZE && compact == NULL; i++) {
		if (jobreq_entry_matches(&c->e[i], st, rules, start, vars, vars_len)) {
			compact = xstrndup(c->e[i].compact, c->e[i].compact_len);
			*lenp = c->e[i].compact_len;
			*n_tasksp = c->e[i].n_tasks;
			*rawp = xmalloc(c->e[i].raw_len + 1);
			memcpy(*rawp, c->e[i].raw, c->e[i].raw_len + 1);
			*raw_lenp = c->e[i].raw_len;
			memcpy(sha, c->e[i].sha, JOBID_LEN + 1);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return compact;
}

static void jobreq_cache_put(struct jobreq_cache *c, const struct stat *st,
			     enum factfile_rules rules, const char *start, int templated,
			     const char *vars, size_t vars_len, const char *compact,
			     size_t compact_len, size_t n_tasks, const char *raw, size_t raw_len,
			     const char sha[JOBID_LEN + 1])
{
	struct jobreq_cache_entry *e;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < JOBREQ_CACHE_SIZE; i++) {
		if (jobreq_entry_matches(&c->e[i], st, rules, start, vars, vars_len))
			goto out; /* another thread put it meanwhile */
	}
	e = &c->e[c->next];
	c->next = (c->next + 1) % JOBREQ_CACHE_SIZE;
	free(e->vars);
	free(e->start);
	free(e->compact);
	free(e->raw);
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtim = st->st_mtim;
	e->ctim = st->st_ctim;
	e->rules = rules;
	e->start = start != NULL ? xstrdup(start) : NULL;
	e->templated = templated;
	e->vars = xmalloc(vars_len + 1);
	memcpy(e->vars, vars, vars_len);
	e->vars_len = vars_len;
	e->compact = xstrndup(compact, compact_len);
	e->compact_len = compact_len;
	e->n_tasks = n_tasks;
	e->raw = xmalloc(raw_len + 1);
	memcpy(e->raw, raw, raw_len);
	e->raw[raw_len] = '\0';
	e->raw_len = raw_len;
	memcpy(e->sha, sha, JOBID_LEN + 1);
out:
	pthread_mutex_unlock(&c->mu);
}

/* 1 if the two bytes a, b occur one after the other in buf (len bytes). */
static int jobreq_has_pair(const char *buf, size_t len, char a, char b)
{
	const char *p = buf, *end = buf + len;

	while (p + 1 < end && (p = memchr(p, a, (size_t)(end - p - 1))) != NULL) {
		if (p[1] == b)
			return 1;
		p++;
	}
	return 0;
}

/* The cached path of the validation: the compact text of path under vars as a new string
 * (*lenp its length), from the cache or read and checked here, with the file's bytes in *rawp
 * (*raw_lenp long; the caller frees them) and their SHA-256 in sha, or NULL whenever anything is
 * off (not a regular file, an I/O error, a parse error, a --start task that cannot start the
 * job, too many tasks): the caller then validates in full, with the messages to answer with. */
static char *jobreq_cached_compact(struct jobreq_cache *c, const char *path,
				   const struct kvlist *vars, const char *start,
				   const struct jobreq_policy *policy, size_t *lenp, char **rawp,
				   size_t *raw_lenp, char sha[JOBID_LEN + 1])
{
	enum factfile_rules rules = policy->rules;
	struct stat before, after;
	struct factfile ff;
	char *buf = NULL, *key = NULL, *compact = NULL;
	size_t key_len, len = 0, n_tasks = 0;
	ssize_t r = 0;
	int fd, templated;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode) ||
	    (unsigned long long)before.st_size > JOBREQ_MAX_FACTFILE || !jobreq_settled(&before))
		goto out;
	key = jobreq_vars_key(vars, &key_len);
	if ((compact = jobreq_cache_get(c, &before, rules, start, key, key_len, lenp, &n_tasks,
					rawp, raw_lenp, sha)) != NULL) {
		if (policy->max_tasks > 0 && n_tasks > policy->max_tasks) {
			free(compact);
			compact = NULL;
			free(*rawp);
			*rawp = NULL;
		}
		goto out;
	}
	/* one byte more than the size: a file that grew meanwhile fails the identity check */
	buf = xmalloc((size_t)before.st_size + 1);
	while (len <= (size_t)before.st_size) {
		r = read(fd, buf + len, (size_t)before.st_size + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (r < 0 || fstat(fd, &after) != 0 || len != (size_t)before.st_size ||
	    after.st_dev != before.st_dev || after.st_ino != before.st_ino ||
	    after.st_size != before.st_size || !jobreq_same_time(&after.st_mtim, &before.st_mtim) ||
	    !jobreq_same_time(&after.st_ctim, &before.st_ctim))
		goto out;
	if (factfile_parse(buf, len, path, vars, rules, &ff, NULL) != 0)
		goto out;
	/* only what passed is cached: a hit, keyed on the variables, needs no new check */
	if ((policy->max_tasks > 0 && ff.n_tasks > policy->max_tasks) ||
	    (start != NULL && factargs_check_start(&ff, start, rules, NULL) != 0) ||
	    (!policy->trust_template_values && tmplcheck_factfile(&ff, vars, NULL) != 0)) {
		factfile_free(&ff);
		goto out;
	}
	/* Templates render JSON string values only, and every tag starts with "{{":
	 * text with neither "{{" nor a \u escape (the only way to spell '{' otherwise) renders
	 * the same with any variables, such as the unique tags of each submission. */
	templated = jobreq_has_pair(buf, len, '{', '{') || jobreq_has_pair(buf, len, '\\', 'u');
	jobid_compute(buf, len, NULL, sha); /* the plain SHA-256 of the bytes */
	jobreq_cache_put(c, &before, rules, start, templated, key, key_len, ff.compact,
			 ff.compact_len, ff.n_tasks, buf, len, sha);
	compact = ff.compact; /* taken over from ff */
	*lenp = ff.compact_len;
	ff.compact = NULL;
	factfile_free(&ff);
	buf[len] = '\0';
	*rawp = buf; /* taken over */
	*raw_lenp = len;
	buf = NULL;
out:
	close(fd);
	free(buf);
	free(key);
	return compact;
}

/* A schedule's slot job is identified by its tags: a client setting them could take the id of a
 * slot not yet fired, which would then be refused as a duplicate. */
static int jobreq_reserved_tag(const struct kvlist *tags, char **detailp)
{
	static const char *const reserved[] = { JOBREQ_TAG_SCHEDULE, JOBREQ_TAG_SLOT };

	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (kvlist_get(tags, reserved[i]) != NULL)
			return err_set(detailp, FS_EINVAL, "the tag '%s' is reserved for schedules",
				       reserved[i]);
	return 0;
}

int jobreq_validate(struct job_request *req, const struct jobreq_policy *policy, char **errp)
{
	struct factargs fa;
	struct factfile ff;
	char *detail = NULL, *compact = NULL;
	size_t compact_len = 0;
	int have_fa = 0, have_ff = 0, rc = FS_EINVAL;

	if (req->job_name[0] == '\0')
		return err_set(errp, FS_EINVAL,
			       INVALID "No valid value found: field 'jobName' cannot be empty");
	if (req->factfile_path[0] == '\0')
		return err_set(errp, FS_EINVAL,
			       INVALID
			       "No valid value found: field 'factfilePath' cannot be empty");
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
	if (policy->args != NULL && argpolicy_check(policy->args, &fa, &detail) != 0)
		goto fail;
	if (!policy->slot_tags && jobreq_reserved_tag(&fa.tags, &detail) != 0)
		goto fail;
	if (policy->cache != NULL &&
	    (compact = jobreq_cached_compact(policy->cache, req->factfile_path, &fa.vars, fa.start,
					     policy, &compact_len, &req->factfile,
					     &req->factfile_len, req->factfile_sha)) != NULL) {
		jobid_compute(compact, compact_len, &fa.tags, req->id);
		rc = 0;
		goto fail;
	}
	/* the bytes validated are the ones the job keeps and its run reads */
	if (factfile_read(req->factfile_path, &req->factfile, &req->factfile_len, &detail) != 0 ||
	    factfile_parse(req->factfile, req->factfile_len, req->factfile_path, &fa.vars,
			   policy->rules, &ff, &detail) != 0)
		goto fail;
	jobid_compute(req->factfile, req->factfile_len, NULL, req->factfile_sha);
	have_ff = 1;
	if (policy->max_tasks > 0 && ff.n_tasks > policy->max_tasks) {
		err_set(&detail, FS_EINVAL,
			"factfilePath '%s' has %zu tasks, more than this server accepts (--max-tasks "
			"%zu)",
			req->factfile_path, ff.n_tasks, policy->max_tasks);
		goto fail;
	}
	if (fa.start != NULL && factargs_check_start(&ff, fa.start, policy->rules, &detail) != 0)
		goto fail;
	if (!policy->trust_template_values && tmplcheck_factfile(&ff, &fa.vars, &detail) != 0)
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
	free(compact);
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
	free(req->factfile);
	memset(req, 0, sizeof *req);
}
