/* SPDX-License-Identifier: Apache-2.0 */
/* A /submit request (doc/api.md): the body's shape and the in-process validation that replaces
 * the original's `factotum run --dry-run`, ending in the job id. */
#ifndef FS_JOBREQ_H
#define FS_JOBREQ_H

#include <stddef.h>

#include "factfile.h"
#include "jobid.h"
#include "runident.h"

/* Largest factfile the validation reads; a bigger one is refused with a clear message. */
#define JOBREQ_MAX_FACTFILE (4u * 1024 * 1024)

struct job_request {
	char *job_name;      /* as sent */
	char *factfile_path; /* as sent */
	char **args;         /* factfileArgs as sent; n_args entries */
	size_t n_args;
	char *args_json; /* factfileArgs re-encoded as a compact JSON array (what is stored) */
	char id[JOBID_LEN + 1]; /* filled by jobreq_validate */
	/* filled by jobreq_validate: the factfile's bytes as validated (NUL-terminated,
	 * factfile_len bytes before the NUL), owned; what the job keeps and its run reads */
	char *factfile;
	size_t factfile_len;
	char factfile_sha[JOBID_LEN + 1]; /* their SHA-256 in hex (cached with them) */
};

/* How the server validates: its --factfile-root allow-list (realpaths, may be empty = any path)
 * and which runner's graph rules apply (the bundled runner's, or a foreign Factotum's). */
struct jobreq_cache;
struct argpolicy;
struct jobreq_policy {
	char *const *roots;
	size_t n_roots;
	enum factfile_rules rules;
	struct jobreq_cache *cache; /* NULL: every validation reads and parses the factfile */
	/* who will run the job, when that is not the validating process's own user (NULL: no
	 * check): a regular file it cannot reach and read is refused */
	const struct runident *run;
	/* --template-values factotum: values pass unchanged (0: strict, core/tmplcheck.h). The
	 * cache holds only validations that passed under this setting and does not key on it: a
	 * cache serves one setting */
	int trust_template_values;
	/* what factfileArgs may ask of this server (NULL: no check) */
	const struct argpolicy *args;
	/* the most tasks a factfile may have (--max-tasks); 0: no limit */
	size_t max_tasks;
	/* 1: the tags JOBREQ_TAG_SCHEDULE and JOBREQ_TAG_SLOT may be set (a schedule's slot, whose
	 * job id they fix); 0: they are refused, so that no client can take a slot's job id */
	int slot_tags;
};
#define JOBREQ_TAG_SCHEDULE "schedule"
#define JOBREQ_TAG_SLOT     "slot"

/* A cache of validated factfiles for jobreq_validate: the compact text of a factfile that
 * parsed (and whose --start task, if any, can start the job), per (file identity, rules, template
 * variables, --start task), so that a resubmission (one answered 409 included) costs no parse;
 * its task count is kept and checked against --max-tasks at each use. The identity is the file's
 * device, inode, size, mtime and ctime (nanoseconds), taken with fstat on the descriptor the
 * text was read from, before and after reading; only a file whose mtime and ctime are at least
 * JOBREQ_CACHE_SETTLED_S seconds old is cached or served. Any write or metadata change sets
 * ctime to the current time, which nobody can set back (utimes sets mtime and sets ctime to now),
 * so a file that changed since it was cached never matches its stale entry, and a write during
 * the read (a same-size rewrite within one timestamp granule included) makes the file too young
 * to be cached. Thread-safe; bounded to JOBREQ_CACHE_SIZE entries. */
#define JOBREQ_CACHE_SIZE      64
#define JOBREQ_CACHE_SETTLED_S 2
/* A new, empty cache; free with jobreq_cache_free (NULL is allowed there). */
struct jobreq_cache *jobreq_cache_new(void);
void jobreq_cache_free(struct jobreq_cache *cache);

/* The longest jobName accepted, in bytes. */
#define JOBREQ_MAX_JOB_NAME 256

/* Step 1: body (len bytes, any bytes) must be a JSON object with string jobName (at most
 * JOBREQ_MAX_JOB_NAME bytes) and factfilePath and an optional array of strings factfileArgs
 * (missing = []), every string in it valid UTF-8 (jobreq_body_parse). Unknown keys are ignored,
 * as the original did. On success fills *req (free with jobreq_free). On failure returns
 * FS_EINVAL and sets *errp to the whole user-facing message: "Error: No body found in POST
 * request", "Error decoding JSON string: <detail>", "Error: invalid UTF-8 in <field>" or
 * "Error: jobName is longer than 256 bytes". */
int jobreq_parse(const char *body, size_t len, struct job_request *req, char **errp);

/* Steps 3 and 4: validates the request as `factotum run <path> <args>` would, in-process, and
 * fills req->id, in time linear in the factfile. A factfile that validates but has more than
 * policy->max_tasks tasks is refused; so is a --tag named schedule or slot unless
 * policy->slot_tags ("Validation Error: the tag 'slot' is reserved for schedules"). On failure returns FS_EINVAL with
 * *errp = "Validation Error: <detail>". */
int jobreq_validate(struct job_request *req, const struct jobreq_policy *policy, char **errp);

void jobreq_free(struct job_request *req);

/* The strict JSON parse of what the server reads (Consul's answers and values; request bodies
 * go through jobreq_body_parse, which uses it): parses s (len bytes, any bytes) as RFC 8259
 * JSON, UTF-8 as json-c checks it (looser than RFC 3629), nesting at most 32 deep,
 * nothing after the value. Returns 0 and *out, a new reference the caller puts (NULL for JSON
 * null), or FS_EINVAL with *errp (if errp) set to the detail ("... at line L column C"). */
struct json_object;
int jobreq_json_parse(const char *s, size_t len, struct json_object **out, char **errp);

/* A POST body (len > 0 bytes, any bytes) as JSON whose every string, keys included, is valid
 * UTF-8 (RFC 3629; a \u escape of a lone surrogate is not). Returns 0 and *out, a new reference
 * the caller puts (NULL for JSON null), or FS_EINVAL with *errp set to the whole user-facing
 * message: "Error decoding JSON string: <detail>" as jobreq_json_parse words it, or "Error:
 * invalid UTF-8 in <field>", where field is the first offending string's place: "jobName" for a
 * top-level member, "factfileArgs[3]" for an element (0-based), "a.b" below that, the key itself
 * (invalid bytes shown as U+FFFD) when the key is the offender, "body" for a bare string or a
 * value json-c dropped as a duplicate key's. */
int jobreq_body_parse(const char *body, size_t len, struct json_object **out, char **errp);

/* serde's name for the kind of a JSON value ("null", "integer", "sequence", "map", ...), as the
 * original's decode errors word it; static storage. */
const char *jobreq_json_kind(struct json_object *v);

#endif
