/* SPDX-License-Identifier: Apache-2.0 */
/* Driver of tests/integration/consul_schedlock.sh: worker/schedlock.c (the schedules' firing
 * lock) against the real consul agent that script starts (its HTTP port in FS_CONSUL_PORT): one
 * holder at a time, the lock's value and session, giving it up, and losing it when Consul drops
 * the session. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "consul.h"
#include "err.h"
#include "schedlock.h"

#define NS "fs-test-schedlock"

/* The group's client, for the agent at FS_CONSUL_PORT (consul_schedlock.sh starts it). */
static int group_setup(void **state)
{
	const char *port = getenv("FS_CONSUL_PORT");
	struct config cfg;
	char *err = NULL;

	if (port == NULL || atoi(port) <= 0 || consul_global_init(&err) != 0) {
		fprintf(stderr,
			"FS_CONSUL_PORT: the agent's HTTP port (run consul_schedlock.sh)%s%s\n",
			err != NULL ? ": " : "", err != NULL ? err : "");
		free(err);
		return -1;
	}
	config_init(&cfg);
	cfg.consul_port = atoi(port);
	*state = consul_new(&cfg, CONSUL_SUBMIT_TIMEOUT_MS);
	config_free(&cfg);
	return 0;
}

static int group_teardown(void **state)
{
	consul_free(*state);
	return 0;
}

/* A round now, whatever its timer says. */
static int round_now(struct schedlock *l)
{
	l->due_ms = 0;
	return schedlock_round(l);
}

/* The lock key as Consul holds it. */
static void lock_key(struct consul *c, struct consul_kv *kv)
{
	char *err = NULL;

	if (consul_kv_get(c, NS "/" SCHEDLOCK_KEY, kv, &err) != 0)
		fail_msg("lock key: %s", err);
}

static void test_one_holder(void **state)
{
	struct consul *c = *state;
	struct schedlock a, b;
	struct consul_kv kv;
	struct consul_session info;
	char *err = NULL;

	schedlock_init(&a, c, NS, "node-a");
	schedlock_init(&b, c, NS, "node-b");
	assert_int_equal(schedlock_round(&a), 1);
	assert_int_equal(schedlock_round(&b), 0);
	assert_int_equal(round_now(&b), 0);
	/* the next renewal is SCHEDLOCK_RENEW_MS away, the next try SCHEDLOCK_RETRY_MS */
	assert_true(schedlock_wait_ms(&a, 60000) > SCHEDLOCK_RENEW_MS - 500);
	assert_true(schedlock_wait_ms(&a, 60000) <= SCHEDLOCK_RENEW_MS);
	assert_true(schedlock_wait_ms(&b, 60000) <= SCHEDLOCK_RETRY_MS);

	lock_key(c, &kv);
	assert_non_null(kv.session);
	assert_string_equal(kv.session, a.session);
	assert_non_null(strstr(kv.value, "{\"node\":\"node-a\",\"since\":\""));
	assert_int_equal(kv.value[strlen(kv.value) - 1], '}');
	consul_kv_clear(&kv);
	/* the firer's own session: its name, TTL and no lock delay */
	assert_int_equal(consul_session_info(c, a.session, &info, &err), 0);
	assert_string_equal(info.name, "factotum-server-firer:node-a");
	assert_string_equal(info.ttl, "10s");
	assert_string_equal(info.behavior, "release");
	assert_int_equal(info.lock_delay_ns, 0);
	consul_session_clear(&info);

	/* a renewal keeps it */
	assert_int_equal(round_now(&a), 1);
	assert_int_equal(round_now(&b), 0);

	/* given up: the other takes it at its next try, no lock delay */
	schedlock_release(&a);
	assert_null(a.session);
	assert_int_equal(round_now(&b), 1);
	assert_int_equal(round_now(&a), 0);
	lock_key(c, &kv);
	assert_string_equal(kv.session, b.session);
	assert_non_null(strstr(kv.value, "\"node\":\"node-b\""));
	consul_kv_clear(&kv);

	/* Consul drops the holder's session (as when its TTL runs out): its next renewal says it
	 * is not the firer any more, and the other competes and wins */
	assert_int_equal(consul_session_destroy(c, b.session, &err), 0);
	assert_int_equal(round_now(&b), 0);
	assert_null(b.session);
	assert_int_equal(round_now(&a), 1);
	assert_int_equal(round_now(&b), 0);

	schedlock_free(&a);
	schedlock_free(&b);
	/* a clean stop leaves the key unlocked */
	lock_key(c, &kv);
	assert_null(kv.session);
	consul_kv_clear(&kv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_holder),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
