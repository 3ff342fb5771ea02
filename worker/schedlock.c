/* SPDX-License-Identifier: Apache-2.0 */
/* The firing lock of schedules with Consul (schedlock.h). */
#include "schedlock.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "consul.h"
#include "err.h"
#include "log.h"
#include "xalloc.h"

static void lock_failed(struct schedlock *l, int rc, const char *err);

void schedlock_init(struct schedlock *l, struct consul *c, const char *ns, const char *node)
{
	memset(l, 0, sizeof *l);
	l->c = c;
	l->key = xasprintf("%s/" SCHEDLOCK_KEY, ns);
	l->node = xstrdup(node);
	l->due_ms = clock_mono_ms();
}

void schedlock_release(struct schedlock *l)
{
	char *err = NULL;

	if (l->session != NULL && consul_session_destroy(l->c, l->session, &err) != 0)
		lock_failed(l, FS_EIO, err); /* the TTL ends it anyway */
	free(err);
	if (l->held)
		log_info("schedules: no longer firing (lock %s released)", l->key);
	free(l->session);
	l->session = NULL;
	l->held = 0;
	l->due_ms = clock_mono_ms();
}

void schedlock_free(struct schedlock *l)
{
	schedlock_release(l);
	free(l->key);
	free(l->node);
	memset(l, 0, sizeof *l);
}

/* The lock's value: who fires, and since when. A new string. */
static char *lock_value(const char *node)
{
	struct json_object *o = json_object_new_object();
	char since[CLOCK_UTC_LEN], *s;

	(void)clock_format_utc(clock_real_ms(), CLOCK_UTC_ISO_MS, since);
	json_object_object_add(o, "node", json_object_new_string(node));
	json_object_object_add(o, "since", json_object_new_string(since));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* A failed call: an ACL refusal is noted (the worker reports those, once), others logged. */
static void lock_failed(struct schedlock *l, int rc, const char *err)
{
	if (rc == FS_EDENIED)
		l->denied = 1;
	else
		log_debug("schedules: firing lock: %s", err);
}

static void lock_lost(struct schedlock *l, const char *why)
{
	if (l->held)
		log_warn("schedules: no longer firing: %s", why);
	l->held = 0;
}

/* Not held: a live session (created, or renewed while it waits: Consul would drop one left
 * alone for its TTL, and the try that finds the key free must not fail on that). 0 or -1. */
static int lock_session(struct schedlock *l)
{
	char *name, *err = NULL;
	int rc;

	if (l->session != NULL && clock_mono_ms() - l->renewed_ms >= SCHEDLOCK_RENEW_MS) {
		rc = consul_session_renew(l->c, l->session, &err);
		if (rc == 0) {
			l->renewed_ms = clock_mono_ms();
		} else if (rc == FS_ENOENT) {
			free(l->session);
			l->session = NULL;
		} else {
			lock_failed(l, rc, err);
		}
		free(err);
		err = NULL;
	}
	if (l->session != NULL)
		return 0;
	name = xasprintf("factotum-server-firer:%s", l->node);
	rc = consul_session_create(l->c, name, SCHEDLOCK_TTL_S, 0, &l->session, &err);
	free(name);
	if (rc != 0) {
		lock_failed(l, rc, err);
		free(err);
		return -1;
	}
	l->renewed_ms = clock_mono_ms();
	return 0;
}

/* Not held: the lock, with a live session. */
static void lock_try(struct schedlock *l)
{
	struct consul_txn_result res;
	struct consul_op op = { .verb = CONSUL_LOCK, .key = l->key };
	char *value = NULL, *err = NULL;
	int rc;

	memset(&res, 0, sizeof res);
	if (lock_session(l) != 0)
		return;
	value = lock_value(l->node);
	op.value = value;
	op.session = l->session;
	rc = consul_txn(l->c, &op, 1, &res, &err);
	l->denied = rc == FS_EDENIED;
	if (rc == 0) {
		l->held = 1;
		l->renewed_ms = clock_mono_ms();
		log_info("schedules: firing on this node (lock %s)", l->key);
	} else if (rc == FS_EEXIST && consul_txn_invalid_session(&res)) {
		/* Consul dropped it meanwhile: a new one at the next try */
		free(l->session);
		l->session = NULL;
	} else if (rc != FS_EEXIST) {
		lock_failed(l, rc, err);
	}
	/* FS_EEXIST otherwise: another node's session holds it */
	consul_txn_result_clear(&res);
	free(value);
	free(err);
}

/* Held: the renewal. */
static void lock_renew(struct schedlock *l)
{
	char *err = NULL;
	int rc = consul_session_renew(l->c, l->session, &err);

	l->denied = rc == FS_EDENIED;
	if (rc == 0) {
		l->renewed_ms = clock_mono_ms();
	} else if (rc == FS_ENOENT) {
		lock_lost(l, "Consul no longer knows its session");
		free(l->session);
		l->session = NULL;
	} else if (clock_mono_ms() - l->renewed_ms >= SCHEDLOCK_TTL_S * 1000) {
		/* Consul may have released it by now */
		lock_lost(l, rc == FS_EDENIED ? "Consul's ACL refuses its renewal" : err);
	} else {
		lock_failed(l, rc, err);
	}
	free(err);
}

int schedlock_round(struct schedlock *l)
{
	int64_t now = clock_mono_ms();

	if (now < l->due_ms)
		return l->held;
	if (l->held)
		lock_renew(l);
	else
		lock_try(l);
	l->due_ms = clock_mono_ms() + (l->held ? SCHEDLOCK_RENEW_MS : SCHEDLOCK_RETRY_MS);
	return l->held;
}

int schedlock_wait_ms(const struct schedlock *l, int max_ms)
{
	int64_t wait = l->due_ms - clock_mono_ms();

	if (wait < 0)
		wait = 0;
	return wait < max_ms ? (int)wait : max_ms;
}
