/* SPDX-License-Identifier: Apache-2.0 */
/* Schedules kept in Consul (the contract is in consulsched.h): the keys, the codec of the
 * schedule and history values, and the fenced txns that change them. */
#include "consulsched.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "consul.h"
#include "err.h"
#include "jobentry.h"
#include "jobreq.h"
#include "log.h"
#include "schedjob.h"
#include "utf8.h"
#include "xalloc.h"

/* A write that lost the race with another writer reads again and retries this many times: an
 * edit races only with slots and other edits, so more than a few losses in a row means Consul
 * keeps changing under us and the caller had better say so. */
#define SCHED_RETRIES   5
/* The latest slot a value may hold (9999-12-31T23:59:59Z): a number past it is damage. */
#define SCHED_SLOT_MAX  INT64_C(253402300799)
/* Counters stay exact in every JSON reader: at most 2^53 - 1. */
#define SCHED_COUNT_MAX INT64_C(9007199254740991)
/* Consul's bound on the ops of one txn. */
#define SCHED_TXN_OPS   64

_Static_assert(1 + 1 + 1 + CONSULSCHED_MISSED_ROWS <= SCHED_TXN_OPS,
	       "a missed txn: the fence, the schedule, the summary and the rows");

char *consulsched_key(const char *ns, const char *name)
{
	return xasprintf("%s/schedules/%s", ns, name);
}

char *consulsched_prefix(const char *ns)
{
	return xasprintf("%s/schedules/", ns);
}

char *consulsched_slot_key(const char *ns, const char *name, int64_t seq)
{
	return xasprintf("%s/schedule-slots/%s/%lld", ns, name,
			 (long long)(seq % CONSULSCHED_RING));
}

char *consulsched_slots_prefix(const char *ns, const char *name)
{
	return xasprintf("%s/schedule-slots/%s/", ns, name);
}

void consulsched_clear(struct consulsched *s)
{
	spoolsched_clear(&s->def);
	memset(s, 0, sizeof(*s));
}

void consulsched_list_free(struct consulsched *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		consulsched_clear(&list[i]);
	free(list);
}

/* ---- the codec ---- */

static const char *const sched_fields[] = {
	"name",         "cron",     "timezone", "jobName",   "factfilePath",
	"factfileArgs", "overlap",  "catchUp",  "paused",    "created",
	"updated",      "lastSlot", "lastJob",  "lastFired", "historySeq",
};
static const char *const row_fields[] = {
	"seq", "slot", "at", "result", "reason", "jobId", "count"
};

static const char *const result_names[SPOOLSCHED_NRESULTS] = { "fired", "skipped", "refused",
							       "missed" };

static char *sched_text(struct json_object *o)
{
	char *s =
		xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

static struct json_object *sched_time(int64_t ms)
{
	char out[CLOCK_UTC_LEN];

	clock_format_utc(ms, CLOCK_UTC_ISO_MS, out); /* empty when refused: the parse refuses it */
	return json_object_new_string(out);
}

char *consulsched_build(const struct spoolsched *def, int64_t history_seq)
{
	struct json_object *o = json_object_new_object();

	schedjob_def_json(o, def);
	json_object_object_add(o, "created", sched_time(def->created_ms));
	json_object_object_add(o, "updated", sched_time(def->updated_ms));
	json_object_object_add(o, "lastSlot", json_object_new_int64(def->last_slot));
	json_object_object_add(o, "lastJob",
			       def->last_job != NULL ? json_object_new_string(def->last_job)
						     : NULL);
	json_object_object_add(o, "lastFired", json_object_new_int64(def->last_fired));
	json_object_object_add(o, "historySeq", json_object_new_int64(history_seq));
	return sched_text(o);
}

char *consulsched_row_build(const struct spoolsched_slot *row, int64_t seq)
{
	struct json_object *o = json_object_new_object();
	unsigned r = (unsigned)row->result < SPOOLSCHED_NRESULTS ? (unsigned)row->result
								 : SPOOLSCHED_MISSED;

	json_object_object_add(o, "seq", json_object_new_int64(seq));
	json_object_object_add(o, "slot", json_object_new_int64(row->slot));
	json_object_object_add(o, "at", sched_time(row->at_ms));
	json_object_object_add(o, "result", json_object_new_string(result_names[r]));
	json_object_object_add(o, "reason",
			       row->reason != NULL ? json_object_new_string(row->reason) : NULL);
	json_object_object_add(o, "jobId",
			       row->job_id != NULL ? json_object_new_string(row->job_id) : NULL);
	json_object_object_add(o, "count", json_object_new_int64(row->count));
	return sched_text(o);
}

/* value[0..len) as a JSON object with exactly the members of fields[0..n) (all of them: the
 * callers read each), every string valid UTF-8: *op (the caller puts it) or FS_EINVAL. */
static int sched_object(const char *what, const char *value, size_t len, const char *const *fields,
			size_t n, struct json_object **op, char **errp)
{
	char *detail = NULL;
	size_t i;
	int rc;

	*op = NULL;
	if (value == NULL)
		value = "";
	/* json-c lets through what RFC 3629 does not, and turns an escaped lone surrogate into
	 * U+FFFD: both are damage here */
	if (!utf8_valid(value, len) || utf8_json_surrogates(value, len, NULL, NULL) > 0)
		return err_set(errp, FS_EINVAL, "%s: not valid UTF-8", what);
	if (jobreq_json_parse(value, len, op, &detail) != 0) {
		rc = err_set(errp, FS_EINVAL, "%s: not JSON: %s", what, detail);
		free(detail);
		return rc;
	}
	if (!json_object_is_type(*op, json_type_object))
		return err_set(errp, FS_EINVAL, "%s: not a JSON object", what);
	json_object_object_foreach(*op, key, v)
	{
		(void)v;
		for (i = 0; i < n && strcmp(key, fields[i]) != 0; i++)
			;
		if (i == n)
			return err_set(errp, FS_EINVAL, "%s: unknown field '%s'", what, key);
	}
	return 0;
}

static int sched_bad(char **errp, const char *what, const char *field, const char *kind)
{
	return err_set(errp, FS_EINVAL, "%s: field '%s' is missing or not %s", what, field, kind);
}

/* A member that is null (*sp NULL) or a string (*sp a new one): 0, else -1. */
static int sched_get_opt_str(struct json_object *o, const char *name, char **sp)
{
	struct json_object *v;

	*sp = NULL;
	if (!json_object_object_get_ex(o, name, &v))
		return -1;
	if (v == NULL)
		return 0;
	return (*sp = jobentry_get_str(o, name)) != NULL ? 0 : -1;
}

/* An integer member in [min, max] (json-c saturates what overflows int64: the bound catches
 * it): 0, else -1. */
static int sched_get_int(struct json_object *o, const char *name, int64_t min, int64_t max,
			 int64_t *np)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*np = json_object_get_int64(v);
	return *np >= min && *np <= max ? 0 : -1;
}

/* An ISO 8601 UTC time member in epoch ms: 0, else -1. */
static int sched_get_time(struct json_object *o, const char *name, int64_t *msp)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	*msp = clock_parse_utc(json_object_get_string(v));
	return *msp >= 0 ? 0 : -1;
}

/* factfileArgs: an array of strings without NUL, into its compact text. */
static int sched_get_args(struct json_object *o, char **argsp)
{
	struct json_object *args, *a;
	size_t i, n;

	if (!json_object_object_get_ex(o, "factfileArgs", &args) ||
	    !json_object_is_type(args, json_type_array))
		return -1;
	n = json_object_array_length(args);
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(args, i);
		if (!json_object_is_type(a, json_type_string) ||
		    memchr(json_object_get_string(a), '\0',
			   (size_t)json_object_get_string_len(a)) != NULL)
			return -1;
	}
	*argsp = xstrdup(
		json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

/* The policies: overlap and catchUp. */
static int sched_get_policies(struct json_object *o, struct spoolsched *d, const char *what,
			      char **errp)
{
	struct json_object *v;
	char *s = jobentry_get_str(o, "overlap");
	int64_t n;
	int ok = s != NULL && (strcmp(s, "allow") == 0 || strcmp(s, "skip") == 0);

	d->overlap_skip = ok && strcmp(s, "skip") == 0;
	free(s);
	if (!ok)
		return sched_bad(errp, what, "overlap", "\"allow\" or \"skip\"");
	s = jobentry_get_str(o, "catchUp");
	ok = s != NULL && (strcmp(s, "none") == 0 || strcmp(s, "last") == 0);
	if (ok)
		d->catch_up =
			strcmp(s, "none") == 0 ? SPOOLSCHED_CATCHUP_NONE : SPOOLSCHED_CATCHUP_LAST;
	free(s);
	if (!ok && json_object_object_get_ex(o, "catchUp", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    sched_get_int(o, "catchUp", 1, SPOOLSCHED_CATCHUP_MAX, &n) == 0) {
		d->catch_up = (int)n;
		ok = 1;
	}
	if (!ok)
		return sched_bad(errp, what, "catchUp",
				 "\"none\", \"last\" or a number from 1 to 100");
	return 0;
}

/* The state: paused, created, updated, lastSlot, lastJob, lastFired, historySeq. */
static int sched_get_state(struct json_object *o, struct consulsched *s, const char *what,
			   char **errp)
{
	struct spoolsched *d = &s->def;
	struct json_object *v;

	if (!json_object_object_get_ex(o, "paused", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return sched_bad(errp, what, "paused", "true or false");
	d->paused = json_object_get_boolean(v);
	if (sched_get_time(o, "created", &d->created_ms) != 0)
		return sched_bad(errp, what, "created", "an ISO 8601 UTC time");
	if (sched_get_time(o, "updated", &d->updated_ms) != 0)
		return sched_bad(errp, what, "updated", "an ISO 8601 UTC time");
	if (sched_get_int(o, "lastSlot", 0, SCHED_SLOT_MAX, &d->last_slot) != 0)
		return sched_bad(errp, what, "lastSlot", "a time in UTC seconds");
	if (sched_get_opt_str(o, "lastJob", &d->last_job) != 0)
		return sched_bad(errp, what, "lastJob", "a string or null");
	if (sched_get_int(o, "lastFired", 0, SCHED_SLOT_MAX, &d->last_fired) != 0)
		return sched_bad(errp, what, "lastFired", "a time in UTC seconds");
	if (sched_get_int(o, "historySeq", 0, SCHED_COUNT_MAX, &s->history_seq) != 0)
		return sched_bad(errp, what, "historySeq", "a count");
	return 0;
}

int consulsched_parse(const char *value, size_t len, const char *name, struct consulsched *s,
		      char **errp)
{
	struct spoolsched *d = &s->def;
	const struct {
		const char *field;
		char **dst;
	} strs[] = {
		{ "name", &d->name },
		{ "cron", &d->cron },
		{ "timezone", &d->timezone },
		{ "jobName", &d->job_name },
		{ "factfilePath", &d->factfile_path },
	};
	struct json_object *o = NULL;
	char *what = xasprintf("schedule value of '%s'", name);
	size_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = sched_object(what, value, len, sched_fields,
			       sizeof(sched_fields) / sizeof(sched_fields[0]), &o, errp)) != 0)
		goto done;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if ((*strs[i].dst = jobentry_get_str(o, strs[i].field)) == NULL) {
			rc = sched_bad(errp, what, strs[i].field, "a string");
			goto done;
		}
	}
	if (strcmp(d->name, name) != 0) {
		rc = err_set(errp, FS_EINVAL, "%s: it names another schedule", what);
		goto done;
	}
	if (sched_get_args(o, &d->factfile_args) != 0) {
		rc = sched_bad(errp, what, "factfileArgs", "an array of strings");
		goto done;
	}
	if ((rc = sched_get_policies(o, d, what, errp)) != 0)
		goto done;
	rc = sched_get_state(o, s, what, errp);
done:
	if (rc != 0)
		consulsched_clear(s);
	json_object_put(o);
	free(what);
	return rc;
}

int consulsched_row_parse(const char *value, size_t len, struct spoolsched_slot *row, int64_t *seqp,
			  char **errp)
{
	const char *what = "schedule history row";
	struct json_object *o = NULL;
	char *result = NULL;
	int rc = FS_EINVAL, r;

	memset(row, 0, sizeof(*row));
	if (sched_object(what, value, len, row_fields, sizeof(row_fields) / sizeof(row_fields[0]),
			 &o, errp) != 0)
		goto done;
	if (sched_get_int(o, "seq", 0, SCHED_COUNT_MAX, seqp) != 0) {
		sched_bad(errp, what, "seq", "a count");
		goto done;
	}
	if (sched_get_int(o, "slot", 0, SCHED_SLOT_MAX, &row->slot) != 0) {
		sched_bad(errp, what, "slot", "a time in UTC seconds");
		goto done;
	}
	if (sched_get_time(o, "at", &row->at_ms) != 0) {
		sched_bad(errp, what, "at", "an ISO 8601 UTC time");
		goto done;
	}
	result = jobentry_get_str(o, "result");
	for (r = 0; result != NULL && r < SPOOLSCHED_NRESULTS; r++)
		if (strcmp(result, result_names[r]) == 0)
			break;
	if (result == NULL || r == SPOOLSCHED_NRESULTS) {
		sched_bad(errp, what, "result",
			  "\"fired\", \"skipped\", \"refused\" or \"missed\"");
		goto done;
	}
	row->result = (enum spoolsched_result)r;
	if (sched_get_opt_str(o, "reason", &row->reason) != 0) {
		sched_bad(errp, what, "reason", "a string or null");
		goto done;
	}
	if (sched_get_opt_str(o, "jobId", &row->job_id) != 0) {
		sched_bad(errp, what, "jobId", "a string or null");
		goto done;
	}
	if (sched_get_int(o, "count", 1, SCHED_COUNT_MAX, &row->count) != 0) {
		sched_bad(errp, what, "count", "a count from 1");
		goto done;
	}
	rc = 0;
done:
	if (rc != 0) {
		free(row->reason);
		free(row->job_id);
		memset(row, 0, sizeof(*row));
	}
	json_object_put(o);
	free(result);
	return rc;
}

/* ---- reads ---- */

/* 1 when name is a schedule name (^[A-Za-z0-9._-]{1,64}$): what a key below the prefix must be
 * to be read as one. */
static int sched_name_ok(const char *name)
{
	size_t n =
		strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n >= 1 && n <= 64 && name[n] == '\0';
}

static int sched_missing(const char *name, char **errp)
{
	return err_set(errp, FS_ENOENT, "Consul: no schedule '%s'", name);
}

/* consulsched_get, with out->index the key's ModifyIndex even when the value does not parse
 * (FS_EINVAL): what set and delete fence a damaged value with, to replace or remove it. */
static int sched_read(struct consul *c, const char *ns, const char *name, struct consulsched *out,
		      char **errp)
{
	struct consul_kv kv;
	char *key = consulsched_key(ns, name);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = consul_kv_get(c, key, &kv, errp);
	if (rc == FS_ENOENT)
		rc = sched_missing(name, errp);
	if (rc == 0) {
		rc = consulsched_parse(kv.value, kv.value_len, name, out, errp);
		out->index = kv.modify_index;
	}
	consul_kv_clear(&kv);
	free(key);
	return rc;
}

int consulsched_get(struct consul *c, const char *ns, const char *name, struct consulsched *out,
		    char **errp)
{
	int rc = sched_read(c, ns, name, out, errp);

	if (rc != 0)
		consulsched_clear(out);
	return rc;
}

int consulsched_list(struct consul *c, const char *ns, size_t max, struct consulsched **listp,
		     size_t *np, char **errp)
{
	char *prefix = consulsched_prefix(ns), *err = NULL;
	struct consul_kv *kvs = NULL;
	struct consulsched *list = NULL;
	size_t nkv = 0, n = 0, plen = strlen(prefix);
	int rc;

	*listp = NULL;
	*np = 0;
	/* the whole answer is read anyway: the bound applies to what parses */
	if ((rc = consul_kv_recurse(c, prefix, SIZE_MAX, &kvs, &nkv, errp)) != 0)
		goto done;
	for (size_t i = 0; i < nkv && (max == 0 || n < max); i++) {
		const char *name = kvs[i].key + plen;

		if (strncmp(kvs[i].key, prefix, plen) != 0 || !sched_name_ok(name)) {
			log_warn("Consul: skipping '%s': not a schedule's key", kvs[i].key);
			continue;
		}
		list = xgrow_by_one(list, n, sizeof(*list));
		if (consulsched_parse(kvs[i].value, kvs[i].value_len, name, &list[n], &err) != 0) {
			log_warn("Consul: skipping '%s': %s", kvs[i].key, err);
			consulsched_clear(&list[n]);
			continue;
		}
		list[n++].index = kvs[i].modify_index;
	}
	*listp = list;
	*np = n;
	list = NULL;
done:
	for (size_t i = 0; i < nkv; i++)
		consul_kv_clear(&kvs[i]);
	free(kvs);
	free(err);
	free(prefix);
	return rc;
}

/* History rows with their seq, for sorting newest first. */
struct sched_row {
	int64_t seq;
	struct spoolsched_slot row;
};

static int sched_row_newer(const void *a, const void *b)
{
	int64_t x = ((const struct sched_row *)a)->seq, y = ((const struct sched_row *)b)->seq;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* A ring key's row: its value, whose seq must be the one the key's place stands for. */
static int sched_ring_row(const struct consul_kv *kv, size_t plen, struct sched_row *r, char **errp)
{
	char *want;
	int rc;

	if ((rc = consulsched_row_parse(kv->value, kv->value_len, &r->row, &r->seq, errp)) != 0)
		return rc;
	want = xasprintf("%lld", (long long)(r->seq % CONSULSCHED_RING));
	if (strcmp(kv->key + plen, want) != 0)
		rc = err_set(errp, FS_EINVAL, "schedule history row: seq %lld is not its key's",
			     (long long)r->seq);
	free(want);
	if (rc != 0) {
		free(r->row.reason);
		free(r->row.job_id);
	}
	return rc;
}

int consulsched_history(struct consul *c, const char *ns, const char *name, size_t max,
			int64_t before_ms, struct spoolsched_slot **slotsp, size_t *np, char **errp)
{
	char *prefix = consulsched_slots_prefix(ns, name), *err = NULL;
	struct consul_kv *kvs = NULL;
	struct sched_row *rows = NULL;
	size_t nkv = 0, n = 0, i, plen = strlen(prefix);
	int rc;

	*slotsp = NULL;
	*np = 0;
	/* the whole answer is read anyway: a key that is no row takes no row's place */
	if ((rc = consul_kv_recurse(c, prefix, SIZE_MAX, &kvs, &nkv, errp)) != 0)
		goto done;
	if (nkv > 0)
		rows = xcalloc(nkv, sizeof(*rows));
	for (i = 0; i < nkv; i++) {
		if (strncmp(kvs[i].key, prefix, plen) != 0 ||
		    sched_ring_row(&kvs[i], plen, &rows[n], &err) != 0) {
			log_warn("Consul: skipping the history row '%s': %s", kvs[i].key,
				 err != NULL ? err : "not under its schedule's prefix");
			continue;
		}
		if (before_ms > 0 && rows[n].row.at_ms < before_ms) {
			free(rows[n].row.reason);
			free(rows[n].row.job_id);
			continue;
		}
		n++;
	}
	if (n > 1)
		qsort(rows, n, sizeof(*rows), sched_row_newer);
	if (max > 0 && n > max) {
		for (i = max; i < n; i++) {
			free(rows[i].row.reason);
			free(rows[i].row.job_id);
		}
		n = max;
	}
	if (n > 0) {
		*slotsp = xcalloc(n, sizeof(**slotsp));
		for (i = 0; i < n; i++)
			(*slotsp)[i] = rows[i].row;
	}
	*np = n;
done:
	for (i = 0; i < nkv; i++)
		consul_kv_clear(&kvs[i]);
	free(kvs);
	free(rows);
	free(err);
	free(prefix);
	return rc;
}

/* ---- writes ---- */

/* One fenced write of a schedule: [check-index of s (check-not-exists when s is NULL), set of
 * the schedule to next with history_seq + nrows, set of rows[0..nrows) as seqs history_seq..,
 * extra[0..nextra)], as one txn. consul_txn's codes (FS_EEXIST: rolled back, res tells why);
 * on 0, *indexp (if indexp) the schedule key's new ModifyIndex. */
struct sched_write {
	const char *ns;
	const struct consulsched *s; /* NULL: a new schedule */
	const struct spoolsched *next;
	int64_t history_seq; /* s's, or 0 */
	const struct spoolsched_slot *rows;
	size_t nrows;
	const struct consul_op *extra;
	size_t nextra;
};

/* The ModifyIndex Consul gave key's write in res (the last result for that key: a check reports
 * the key as it was before the writes). */
static int sched_written_index(const struct consul_txn_result *res, const char *key,
			       int64_t *indexp, char **errp)
{
	for (size_t i = res->n_kvs; i-- > 0;) {
		if (res->kvs[i].key != NULL && strcmp(res->kvs[i].key, key) == 0) {
			*indexp = res->kvs[i].modify_index;
			return 0;
		}
	}
	return err_set(errp, FS_EINVAL, "Consul answered the txn without the result of '%s'", key);
}

static int sched_commit(struct consul *c, const struct sched_write *w,
			struct consul_txn_result *res, int64_t *indexp, char **errp)
{
	struct consul_op ops[SCHED_TXN_OPS];
	char *key = consulsched_key(w->ns, w->next->name);
	char *vals[SCHED_TXN_OPS], *keys[SCHED_TXN_OPS];
	size_t n = 0, nv = 0, i;
	int rc;

	if (2 + w->nrows + w->nextra > SCHED_TXN_OPS) {
		rc = err_set(errp, FS_EINVAL, "a schedule txn of %zu ops is too long",
			     2 + w->nrows + w->nextra);
		goto done;
	}
	ops[n++] = (struct consul_op){ .verb = w->s != NULL ? CONSUL_CHECK_INDEX
							    : CONSUL_CHECK_NOT_EXISTS,
				       .key = key,
				       .index = w->s != NULL ? w->s->index : 0 };
	vals[nv] = consulsched_build(w->next, w->history_seq + (int64_t)w->nrows);
	keys[nv] = NULL;
	ops[n++] = (struct consul_op){ .verb = CONSUL_SET, .key = key, .value = vals[nv++] };
	for (i = 0; i < w->nrows; i++) {
		keys[nv] = consulsched_slot_key(w->ns, w->next->name, w->history_seq + (int64_t)i);
		vals[nv] = consulsched_row_build(&w->rows[i], w->history_seq + (int64_t)i);
		ops[n++] = (struct consul_op){ .verb = CONSUL_SET,
					       .key = keys[nv],
					       .value = vals[nv] };
		nv++;
	}
	for (i = 0; i < w->nextra; i++)
		ops[n++] = w->extra[i];
	rc = consul_txn(c, ops, n, res, errp);
	if (rc == 0 && indexp != NULL)
		rc = sched_written_index(res, key, indexp, errp);
	for (i = 0; i < nv; i++) {
		free(keys[i]);
		free(vals[i]);
	}
done:
	free(key);
	return rc;
}

/* The meaning of a rolled-back write of sched_commit: the fence (op 0) failed: FS_ENOENT when
 * the schedule is gone (a read tells), else FS_ESTATE; an op at or past first_extra failed:
 * FS_EEXIST (the extra ops claim a key); an invalid session: FS_EIO. */
static int sched_conflict(struct consul *c, const char *ns, const char *name,
			  const struct consul_txn_result *res, int first_extra,
			  int *invalid_sessionp, char **errp)
{
	struct consul_kv kv;
	char *key;
	int rc, fence = 0, extra = 0;

	if (consul_txn_invalid_session(res)) {
		if (invalid_sessionp != NULL)
			*invalid_sessionp = 1;
		return err_set(errp, FS_EIO,
			       "Consul unavailable: the node's session is no longer valid");
	}
	for (size_t i = 0; i < res->n_errors; i++) {
		fence |= res->errors[i].op_index == 0;
		extra |= first_extra > 0 && res->errors[i].op_index >= first_extra;
	}
	if (fence) {
		key = consulsched_key(ns, name);
		rc = consul_kv_get(c, key, &kv, NULL);
		consul_kv_clear(&kv);
		free(key);
		if (rc == FS_ENOENT)
			return sched_missing(name, errp);
		return err_set(errp, FS_ESTATE, "Consul: schedule '%s' changed meanwhile", name);
	}
	if (extra)
		return err_set(errp, FS_EEXIST, "Consul: the slot's job exists already");
	return err_set(errp, FS_EIO, "Consul unavailable: the txn of schedule '%s' was rolled back",
		       name);
}

/* The end of a write retried on lost races: still losing after SCHED_RETRIES is FS_ESTATE;
 * success leaves no message of the lost rounds. */
static int sched_retried(int rc, const char *name, char **errp)
{
	if (rc == FS_ESTATE)
		return err_set(errp, FS_ESTATE, "Consul: schedule '%s' kept changing; try again",
			       name);
	if (rc == 0 && errp != NULL) {
		free(*errp);
		*errp = NULL;
	}
	return rc;
}

/* A write that read s first: on a lost race, read again and retry. change fills next from the
 * schedule read (its strings borrowed from cur or arg) and may refuse. */
typedef int (*sched_change_fn)(const struct consulsched *cur, struct spoolsched *next,
			       struct spoolsched_slot *row, size_t *nrowsp, void *arg, char **errp);

/* ... with extra[0..nextra) after the writes of one row at most (their failure: FS_EEXIST). */
static int sched_update_extra(struct consul *c, const char *ns, const char *name,
			      sched_change_fn change, void *arg, const struct consul_op *extra,
			      size_t nextra, char **errp)
{
	struct consul_txn_result res;
	struct consulsched cur;
	struct spoolsched next;
	struct spoolsched_slot row;
	int rc = FS_ESTATE;

	for (int attempt = 0; attempt < SCHED_RETRIES && rc == FS_ESTATE; attempt++) {
		struct sched_write w = { .ns = ns,
					 .s = &cur,
					 .next = &next,
					 .rows = &row,
					 .extra = extra,
					 .nextra = nextra };

		memset(&res, 0, sizeof(res));
		if ((rc = consulsched_get(c, ns, name, &cur, errp)) != 0)
			break;
		w.history_seq = cur.history_seq;
		if ((rc = change(&cur, &next, &row, &w.nrows, arg, errp)) == 0 &&
		    (rc = sched_commit(c, &w, &res, NULL, errp)) == FS_EEXIST)
			rc = sched_conflict(c, ns, name, &res, nextra > 0 ? 2 + (int)w.nrows : 0,
					    NULL, errp);
		consul_txn_result_clear(&res);
		consulsched_clear(&cur);
	}
	return sched_retried(rc, name, errp);
}

static int sched_update(struct consul *c, const char *ns, const char *name, sched_change_fn change,
			void *arg, char **errp)
{
	return sched_update_extra(c, ns, name, change, arg, NULL, 0, errp);
}

/* How many schedules the namespace holds: the keys right below the prefix. */
static int sched_count(struct consul *c, const char *ns, size_t *np, char **errp)
{
	char *prefix = consulsched_prefix(ns), **keys = NULL;
	size_t nk = 0, i, len;
	int rc = consul_kv_keys(c, prefix, "/", &keys, &nk, errp);

	*np = 0;
	for (i = 0; i < nk; i++) {
		len = strlen(keys[i]);
		*np += len > 0 && keys[i][len - 1] != '/'; /* a "folder" is no schedule */
		free(keys[i]);
	}
	free(keys);
	free(prefix);
	return rc;
}

/* A new schedule, slots from now_s on due, unless max exist already; with damaged (a value
 * that does not parse, at that ModifyIndex), in that value's place. Whatever is under its ring's
 * prefix goes in the same txn: rows left there (a key deleted by hand, a damaged schedule's)
 * would not follow the new historySeq. FS_ESTATE when the key changed meanwhile (the caller
 * reads it again). */
static int sched_create(struct consul *c, const char *ns, const struct spoolsched *def,
			int64_t now_s, size_t max, int64_t damaged, char **errp)
{
	struct consul_txn_result res;
	struct consulsched fence = { .index = damaged };
	struct spoolsched next = *def;
	char *ring = consulsched_slots_prefix(ns, def->name);
	struct consul_op drop = { .verb = CONSUL_DELETE_TREE, .key = ring };
	struct sched_write w = { .ns = ns, .next = &next, .extra = &drop, .nextra = 1 };
	size_t n;
	int rc;

	memset(&res, 0, sizeof(res));
	if (damaged > 0) {
		w.s = &fence;
	} else if ((rc = sched_count(c, ns, &n, errp)) != 0) {
		goto done;
	} else if (max > 0 && n >= max) {
		rc = err_set(errp, FS_EFULL,
			     "Error: at most %zu schedules, cannot add schedule '%s'", max,
			     def->name);
		goto done;
	}
	next.paused = 0;
	next.created_ms = next.updated_ms = clock_real_ms();
	next.last_slot = now_s;
	next.last_job = NULL;
	next.last_fired = 0;
	if ((rc = sched_commit(c, &w, &res, NULL, errp)) == FS_EEXIST)
		rc = err_set(errp, FS_ESTATE, "Consul: schedule '%s' changed meanwhile", def->name);
done:
	consul_txn_result_clear(&res);
	free(ring);
	return rc;
}

/* A replaced definition keeps the state: the pause, the time of its creation, its slots. */
static int sched_replace(struct consul *c, const char *ns, const struct consulsched *cur,
			 const struct spoolsched *def, char **errp)
{
	struct consul_txn_result res;
	struct spoolsched next = *def;
	struct sched_write w = {
		.ns = ns, .s = cur, .next = &next, .history_seq = cur->history_seq
	};
	int rc;

	memset(&res, 0, sizeof(res));
	next.paused = cur->def.paused;
	next.created_ms = cur->def.created_ms;
	next.updated_ms = clock_real_ms();
	next.last_slot = cur->def.last_slot;
	next.last_job = cur->def.last_job;
	next.last_fired = cur->def.last_fired;
	if ((rc = sched_commit(c, &w, &res, NULL, errp)) == FS_EEXIST)
		rc = sched_conflict(c, ns, def->name, &res, 0, NULL, errp);
	consul_txn_result_clear(&res);
	return rc;
}

int consulsched_set(struct consul *c, const char *ns, const struct spoolsched *def, int64_t now_s,
		    size_t max, char **errp)
{
	struct consulsched cur;
	int rc = FS_ESTATE;

	for (int attempt = 0; attempt < SCHED_RETRIES && rc == FS_ESTATE; attempt++) {
		rc = sched_read(c, ns, def->name, &cur, errp);
		if (rc == FS_ENOENT) {
			rc = sched_create(c, ns, def, now_s, max, 0, errp);
		} else if (rc == 0) {
			rc = sched_replace(c, ns, &cur, def, errp);
		} else if (rc == FS_EINVAL && cur.index > 0) {
			log_warn("Consul: replacing schedule '%s': %s", def->name,
				 errp != NULL && *errp != NULL ? *errp : "damaged value");
			rc = sched_create(c, ns, def, now_s, max, cur.index, errp);
		}
		consulsched_clear(&cur);
	}
	return sched_retried(rc, def->name, errp);
}

struct sched_pause_arg {
	int paused;
	int64_t now_s;
};

/* As spoolsched_pause: resuming a paused schedule makes the slots of the pause not due. */
static int sched_pause_change(const struct consulsched *cur, struct spoolsched *next,
			      struct spoolsched_slot *row, size_t *nrowsp, void *arg, char **errp)
{
	const struct sched_pause_arg *a = arg;

	(void)row;
	(void)errp;
	*next = cur->def;
	next->paused = a->paused != 0;
	next->updated_ms = clock_real_ms();
	if (cur->def.paused && !a->paused && next->last_slot < a->now_s)
		next->last_slot = a->now_s;
	*nrowsp = 0;
	return 0;
}

int consulsched_pause(struct consul *c, const char *ns, const char *name, int paused, int64_t now_s,
		      char **errp)
{
	struct sched_pause_arg a = { paused, now_s };

	return sched_update(c, ns, name, sched_pause_change, &a, errp);
}

/* One row after the fact: the schedule as it is, its next seq. */
static int sched_note_change(const struct consulsched *cur, struct spoolsched *next,
			     struct spoolsched_slot *row, size_t *nrowsp, void *arg, char **errp)
{
	(void)errp;
	*next = cur->def;
	*row = *(const struct spoolsched_slot *)arg;
	if (row->at_ms <= 0)
		row->at_ms = clock_real_ms();
	*nrowsp = 1;
	return 0;
}

int consulsched_note(struct consul *c, const char *ns, const char *name,
		     const struct spoolsched_slot *row, char **errp)
{
	return sched_update(c, ns, name, sched_note_change, (void *)row, errp);
}

int consulsched_unclaim(struct consul *c, const char *ns, const char *name, const char *job_key,
			int64_t job_index, const char *job_value, const char *session,
			const struct spoolsched_slot *row, char **errp)
{
	const struct consul_op ops[3] = {
		{ .verb = CONSUL_CHECK_INDEX, .key = job_key, .index = job_index },
		{ .verb = CONSUL_LOCK, .key = job_key, .value = job_value, .session = session },
		{ .verb = CONSUL_DELETE, .key = job_key },
	};
	int rc = sched_update_extra(c, ns, name, sched_note_change, (void *)row, ops, 3, errp);

	if (rc == FS_EEXIST)
		rc = err_set(errp, FS_EEXIST,
			     "Consul: '%s' changed meanwhile, or is held back by its lock delay",
			     job_key);
	return rc;
}

int consulsched_delete(struct consul *c, const char *ns, const char *name, char **errp)
{
	struct consul_txn_result res;
	struct consulsched cur;
	char *key = consulsched_key(ns, name), *ring = consulsched_slots_prefix(ns, name);
	struct consul_op ops[2] = { { .verb = CONSUL_DELETE_CAS, .key = key },
				    { .verb = CONSUL_DELETE_TREE, .key = ring } };
	int rc = FS_ESTATE;

	for (int attempt = 0; attempt < SCHED_RETRIES && rc == FS_ESTATE; attempt++) {
		memset(&res, 0, sizeof(res));
		/* a damaged value goes too: its index is the fence */
		rc = sched_read(c, ns, name, &cur, errp);
		if (rc == 0 || (rc == FS_EINVAL && cur.index > 0)) {
			ops[0].index = cur.index;
			if ((rc = consul_txn(c, ops, 2, &res, errp)) == FS_EEXIST)
				rc = sched_conflict(c, ns, name, &res, 0, NULL, errp);
		}
		consul_txn_result_clear(&res);
		consulsched_clear(&cur);
	}
	free(key);
	free(ring);
	return sched_retried(rc, name, errp);
}

int consulsched_fire(struct consul *c, const char *ns, const struct consulsched_fire *f,
		     int64_t *indexp, int64_t *job_indexp, int *invalid_sessionp, char **errp)
{
	const struct consulsched *s = f->s;
	struct consul_txn_result res;
	struct spoolsched next = s->def;
	struct spoolsched_slot row = { .slot = f->slot, .at_ms = clock_real_ms(), .count = 1 };
	struct consul_op claim[2] = {
		{ .verb = CONSUL_CHECK_NOT_EXISTS, .key = f->job_key },
		{ .verb = CONSUL_LOCK,
		  .key = f->job_key,
		  .value = f->job_value,
		  .session = f->session },
	};
	struct sched_write w = { .ns = ns,
				 .s = s,
				 .next = &next,
				 .history_seq = s->history_seq,
				 .rows = &row,
				 .nrows = 1 };
	int64_t index = 0;
	int rc;

	memset(&res, 0, sizeof(res));
	if (invalid_sessionp != NULL)
		*invalid_sessionp = 0;
	if (f->advance)
		next.last_slot = f->slot;
	if (f->job_key != NULL) {
		next.last_job = (char *)f->job_id;
		next.last_fired = f->slot;
		row.result = SPOOLSCHED_FIRED;
		row.job_id = (char *)f->job_id;
		w.extra = claim;
		w.nextra = 2;
	} else {
		row.result = f->result;
		row.reason = (char *)f->reason;
	}
	rc = sched_commit(c, &w, &res, &index, errp);
	if (rc == FS_EEXIST)
		rc = sched_conflict(c, ns, s->def.name, &res, 3, invalid_sessionp, errp);
	if (rc == 0 && f->job_key != NULL && job_indexp != NULL)
		rc = sched_written_index(&res, f->job_key, job_indexp, errp);
	if (rc == 0 && indexp != NULL)
		*indexp = index;
	consul_txn_result_clear(&res);
	return rc;
}

int consulsched_missed(struct consul *c, const char *ns, const struct consulsched *s,
		       const int64_t *slots, size_t n, int64_t more, int64_t more_last,
		       int64_t new_last, int64_t *indexp, char **errp)
{
	struct spoolsched_slot rows[1 + CONSULSCHED_MISSED_ROWS];
	struct consul_txn_result res;
	struct spoolsched next = s->def;
	struct sched_write w = {
		.ns = ns, .s = s, .next = &next, .history_seq = s->history_seq, .rows = rows
	};
	char *reason = NULL;
	int64_t now = clock_real_ms();
	int rc;

	if (n > CONSULSCHED_MISSED_ROWS)
		return err_set(errp, FS_EINVAL, "%zu missed slots in one txn: at most %d", n,
			       CONSULSCHED_MISSED_ROWS);
	memset(&res, 0, sizeof(res));
	/* the summary stands for slots before slots[0]: it comes first, as in the spool */
	if (more != 0) {
		reason = spoolsched_more_reason(more);
		rows[w.nrows++] = (struct spoolsched_slot){ .slot = more_last,
							    .at_ms = now,
							    .result = SPOOLSCHED_MISSED,
							    .reason = reason,
							    .count = more < 0 ? -more : more };
	}
	for (size_t i = 0; i < n; i++)
		rows[w.nrows++] = (struct spoolsched_slot){
			.slot = slots[i], .at_ms = now, .result = SPOOLSCHED_MISSED, .count = 1
		};
	next.last_slot = new_last;
	if ((rc = sched_commit(c, &w, &res, indexp, errp)) == FS_EEXIST)
		rc = sched_conflict(c, ns, s->def.name, &res, 0, NULL, errp);
	consul_txn_result_clear(&res);
	free(reason);
	return rc;
}
