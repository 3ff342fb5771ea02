/* SPDX-License-Identifier: Apache-2.0 */
/* Driver of tests/integration/consul_client.sh: core/consul.c against the real consul agent that
 * script starts (its HTTP port in FS_CONSUL_PORT), and against a fake HTTP server in a thread
 * for answers a real Consul never gives (malformed JSON, wrong shapes, silence). Covers every
 * op of the protocol (doc/consul.md), claim races between processes (exactly one wins), a
 * session expiring and releasing its lock (FS_CONSUL_SLOW=1; ~20 s), and malformed values at a
 * key. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "consul.h"
#include "err.h"
#include "jobentry.h"

static int consul_port;

/* A client for 127.0.0.1:port (token may be NULL). */
static struct consul *client(int port, const char *token, long timeout_ms)
{
	struct config cfg;
	struct consul *c;

	config_init(&cfg);
	cfg.consul_port = port;
	if (token != NULL)
		cfg.consul_token = strdup(token);
	c = consul_new(&cfg, timeout_ms);
	config_free(&cfg);
	return c;
}

static char *session(struct consul *c, int ttl, int delay)
{
	char *id = NULL, *err = NULL;

	if (consul_session_create(c, "factotum-server:test", ttl, delay, &id, &err) != 0)
		fail_msg("session create: %s", err);
	return id;
}

/* ops[0..1]: the claim of a new key, as /submit makes it: check-not-exists, then lock with value
 * by session. */
static void claim_ops(struct consul_op ops[2], const char *key, const char *value,
		      const char *session)
{
	ops[0] = (struct consul_op){ .verb = CONSUL_CHECK_NOT_EXISTS, .key = key };
	ops[1] = (struct consul_op){
		.verb = CONSUL_LOCK, .key = key, .value = value, .session = session
	};
}

static void test_reachable(void **state)
{
	struct consul *c = client(consul_port, NULL, 2000);
	char *err = NULL;

	(void)state;
	assert_int_equal(consul_ping(c, &err), 0);
	assert_null(err);
	consul_free(c);
}

static void test_unreachable(void **state)
{
	struct consul_kv kv;
	char *err = NULL;
	struct consul *c;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	(void)state;
	/* a port nobody listens on: bound, never listened */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	c = client(port, NULL, 2000);
	assert_int_equal(consul_kv_get(c, "a/b", &kv, &err), FS_EIO);
	assert_non_null(strstr(err, "Consul unavailable: "));
	free(err);
	err = NULL;
	assert_int_equal(consul_ping(c, &err), FS_EIO);
	free(err);
	consul_free(c);
	close(fd);
}

static void test_kv_and_escaping(void **state)
{
	static const char *const keys[] = {
		"t/esc/plain", "t/esc/with space", "t/esc/per%cent?q=1&x#frag",
		"t/esc/ünï",   "t/a b/c+d/e",
	};
	struct consul *c = client(consul_port, NULL, 2000);
	struct consul_txn_result res;
	struct consul_kv kv;
	struct consul_op op;
	char *err = NULL;
	size_t i;

	(void)state;
	assert_int_equal(consul_kv_get(c, "t/none/here", &kv, &err), FS_ENOENT);
	free(err);
	err = NULL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		memset(&op, 0, sizeof(op));
		op.verb = CONSUL_SET;
		op.key = keys[i];
		op.value = "v\"1\n";
		assert_int_equal(consul_txn(c, &op, 1, &res, &err), 0);
		assert_true(res.last_index > 0);
		assert_int_equal(consul_kv_get(c, keys[i], &kv, &err), 0);
		assert_string_equal(kv.key, keys[i]);
		assert_string_equal(kv.value, "v\"1\n");
		assert_int_equal(kv.value_len, 4);
		assert_null(kv.session);
		assert_true(kv.modify_index == res.last_index);
		consul_kv_clear(&kv);
		consul_txn_result_clear(&res);
	}
	consul_free(c);
}

/* consul_kv_keys and consul_kv_recurse: names in order, a folder once with a separator, the
 * values and lock holders of a recursive read, its bound, and nothing under a prefix as none. */
static void test_kv_lists(void **state)
{
	static const char *const keys[] = { "t/list/b", "t/list/a", "t/list/sub/x", "t/list/sub/y",
					    "t/lister" };
	struct consul *c = client(consul_port, NULL, 2000);
	struct consul_op op;
	struct consul_kv *kvs = NULL;
	char *err = NULL, **names = NULL, *sid = session(c, 30, 0);
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		op = (struct consul_op){ .verb = CONSUL_SET, .key = keys[i], .value = keys[i] };
		if (i == 0)
			op = (struct consul_op){ .verb = CONSUL_LOCK,
						 .key = keys[i],
						 .value = keys[i],
						 .session = sid };
		assert_int_equal(consul_txn(c, &op, 1, NULL, &err), 0);
	}
	assert_int_equal(consul_kv_keys(c, "t/list/", "/", &names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "t/list/a");
	assert_string_equal(names[1], "t/list/b");
	assert_string_equal(names[2], "t/list/sub/");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	assert_int_equal(consul_kv_keys(c, "t/list/", NULL, &names, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(names[3], "t/list/sub/y");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	assert_int_equal(consul_kv_recurse(c, "t/list/", 100, &kvs, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(kvs[0].key, "t/list/a");
	assert_null(kvs[0].session);
	assert_string_equal(kvs[1].key, "t/list/b");
	assert_string_equal(kvs[1].value, "t/list/b");
	assert_string_equal(kvs[1].session, sid);
	for (i = 0; i < n; i++)
		consul_kv_clear(&kvs[i]);
	free(kvs);
	assert_int_equal(consul_kv_recurse(c, "t/list/", 2, &kvs, &n, &err), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		consul_kv_clear(&kvs[i]);
	free(kvs);
	assert_int_equal(consul_kv_keys(c, "t/nothing/", "/", &names, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(names);
	assert_int_equal(consul_kv_recurse(c, "t/nothing/", 10, &kvs, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(kvs);
	assert_null(err);
	assert_int_equal(consul_session_destroy(c, sid, NULL), 0);
	free(sid);
	consul_free(c);
}

static void test_txn_claim_ops(void **state)
{
	struct consul *c = client(consul_port, NULL, 2000);
	struct consul_txn_result res;
	struct consul_op ops[3];
	struct consul_kv kv;
	char *s1 = session(c, 15, 15), *s2 = session(c, 15, 15), *err = NULL;
	const char *key = "t/claim/job1";
	int64_t idx, idx2;

	(void)state;
	memset(ops, 0, sizeof(ops));
	/* claim a new id */
	claim_ops(ops, key, "{\"state\":\"QUEUED\"}", s1);
	assert_int_equal(consul_txn(c, ops, 2, &res, &err), 0);
	idx = res.last_index;
	assert_true(idx > 0);
	consul_txn_result_clear(&res);
	assert_int_equal(consul_kv_get(c, key, &kv, &err), 0);
	assert_string_equal(kv.session, s1);
	assert_true(kv.modify_index == idx);
	consul_kv_clear(&kv);
	/* a second claim of the same id loses */
	ops[1].session = s2;
	assert_int_equal(consul_txn(c, ops, 2, &res, &err), FS_EEXIST);
	assert_true(res.n_errors >= 1); /* Consul reports every failing op */
	assert_int_equal(res.errors[0].op_index, 0);
	assert_non_null(strstr(res.errors[0].what, "exists"));
	assert_non_null(strstr(err, "op 0: "));
	consul_txn_result_clear(&res);
	free(err);
	err = NULL;
	/* a transition fenced by the index and the session: the last write's index is kept */
	ops[0].verb = CONSUL_CHECK_INDEX;
	ops[0].index = idx;
	ops[1].verb = CONSUL_CHECK_SESSION;
	ops[1].session = s1;
	ops[2].verb = CONSUL_LOCK;
	ops[2].key = key;
	ops[2].value = "{\"state\":\"WORKING\"}";
	ops[2].session = s1;
	assert_int_equal(consul_txn(c, ops, 3, &res, &err), 0);
	assert_int_equal(res.n_kvs, 3); /* each check reports the key as it was, then the lock */
	idx2 = res.last_index;
	assert_true(idx2 > idx);
	consul_txn_result_clear(&res);
	/* the stale fence fails: this node lost the job */
	assert_int_equal(consul_txn(c, ops, 3, &res, &err), FS_EEXIST);
	assert_non_null(strstr(res.errors[0].what, "index"));
	consul_txn_result_clear(&res);
	free(err);
	err = NULL;
	/* another session may not take a held lock even with the right index */
	ops[0].index = idx2;
	ops[1].session = s2;
	ops[2].session = s2;
	assert_int_equal(consul_txn(c, ops, 3, &res, &err), FS_EEXIST);
	consul_txn_result_clear(&res);
	free(err);
	err = NULL;
	/* finish: unlock keeps the value, drops the session */
	ops[1].verb = CONSUL_UNLOCK;
	ops[1].value = "{\"state\":\"DONE\"}";
	ops[1].session = s1;
	assert_int_equal(consul_txn(c, ops, 2, &res, &err), 0);
	idx = res.last_index;
	consul_txn_result_clear(&res);
	assert_int_equal(consul_kv_get(c, key, &kv, &err), 0);
	assert_null(kv.session);
	assert_string_equal(kv.value, "{\"state\":\"DONE\"}");
	assert_true(kv.modify_index == idx);
	consul_kv_clear(&kv);
	/* get */
	ops[0].verb = CONSUL_GET;
	assert_int_equal(consul_txn(c, ops, 1, &res, &err), 0);
	assert_int_equal(res.n_kvs, 1);
	assert_string_equal(res.kvs[0].value, "{\"state\":\"DONE\"}");
	assert_true(res.last_index == 0); /* no write */
	consul_txn_result_clear(&res);
	/* delete-cas: stale index refused, right index deletes */
	ops[0].verb = CONSUL_DELETE_CAS;
	ops[0].index = idx - 1;
	assert_int_equal(consul_txn(c, ops, 1, &res, &err), FS_EEXIST);
	consul_txn_result_clear(&res);
	free(err);
	err = NULL;
	ops[0].index = idx;
	assert_int_equal(consul_txn(c, ops, 1, &res, &err), 0);
	consul_txn_result_clear(&res);
	assert_int_equal(consul_kv_get(c, key, &kv, &err), FS_ENOENT);
	free(err);
	err = NULL;
	/* a lock with a session Consul does not know */
	ops[0].verb = CONSUL_CHECK_NOT_EXISTS;
	ops[1].verb = CONSUL_LOCK;
	ops[1].value = "x";
	ops[1].session = "00000000-0000-0000-0000-000000000000";
	assert_int_equal(consul_txn(c, ops, 2, &res, &err), FS_EEXIST);
	assert_true(consul_txn_invalid_session(&res));
	consul_txn_result_clear(&res);
	free(err);
	err = NULL;
	/* ops lacking what their verb needs are refused before anything is sent */
	ops[1].session = NULL;
	assert_int_equal(consul_txn(c, ops, 2, NULL, &err), FS_EINVAL);
	free(err);
	free(s1);
	free(s2);
	consul_free(c);
}

static void test_sessions(void **state)
{
	struct consul *c = client(consul_port, NULL, 2000);
	struct consul_session info;
	char *id, *err = NULL;

	(void)state;
	id = session(c, 15, 15);
	assert_int_equal(consul_session_info(c, id, &info, &err), 0);
	assert_string_equal(info.id, id);
	assert_string_equal(info.name, "factotum-server:test");
	assert_string_equal(info.behavior, "release");
	assert_string_equal(info.ttl, "15s");
	assert_true(info.lock_delay_ns == 15000000000LL);
	consul_session_clear(&info);
	assert_int_equal(consul_session_renew(c, id, &err), 0);
	assert_int_equal(consul_session_destroy(c, id, &err), 0);
	assert_int_equal(consul_session_renew(c, id, &err), FS_ENOENT);
	free(err);
	err = NULL;
	assert_int_equal(consul_session_info(c, id, &info, &err), FS_ENOENT);
	free(err);
	err = NULL;
	assert_int_equal(consul_session_destroy(c, id, &err), 0);
	free(id);
	/* Consul refuses a TTL under 10 s: its own words reach the message */
	assert_int_equal(consul_session_create(c, "x", 5, 0, &id, &err), FS_EIO);
	assert_null(id);
	assert_non_null(strstr(err, "Invalid Session TTL"));
	free(err);
	consul_free(c);
}

/* Several processes claim one key at once, each with its own client and session: exactly one
 * wins, every other gets FS_EEXIST. */
static void test_claim_race(void **state)
{
	enum { N = 8 };
	int go[2], i, st, won = 0, lost = 0;
	pid_t pids[N];
	char b;

	(void)state;
	assert_int_equal(pipe(go), 0);
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct consul *c = client(consul_port, NULL, 5000);
			struct consul_op ops[2];
			char *s = NULL, *err = NULL;
			int rc;

			close(go[1]);
			if (consul_session_create(c, "race", 15, 15, &s, &err) != 0)
				_exit(3);
			(void)!read(go[0], &b, 1); /* all start together */
			claim_ops(ops, "t/race/job", "claimed", s);
			rc = consul_txn(c, ops, 2, NULL, &err);
			_exit(rc == 0 ? 0 : rc == FS_EEXIST ? 1 : 2);
		}
	}
	close(go[0]);
	usleep(300 * 1000);
	close(go[1]); /* EOF wakes every child */
	for (i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		won += WEXITSTATUS(st) == 0;
		lost += WEXITSTATUS(st) == 1;
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, N - 1);
}

/* A value at a job's key that is not a job entry: a clear error, never a crash. */
static void test_malformed_value(void **state)
{
	static const char *const bad[] = { "garbage", "{\"state\":\"DONE\"}", "[]", "" };
	struct consul *c = client(consul_port, NULL, 2000);
	struct consul_kv kv;
	struct consul_op op;
	struct jobentry e;
	char *err = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&op, 0, sizeof(op));
		op.verb = CONSUL_SET;
		op.key = "t/bad/job";
		op.value = bad[i];
		assert_int_equal(consul_txn(c, &op, 1, NULL, &err), 0);
		assert_int_equal(consul_kv_get(c, "t/bad/job", &kv, &err), 0);
		assert_int_equal(jobentry_parse(kv.value, kv.value_len, &e, &err), FS_EINVAL);
		assert_non_null(err);
		free(err);
		err = NULL;
		jobentry_free(&e);
		consul_kv_clear(&kv);
	}
	consul_free(c);
}

/* ---- a fake Consul for answers the real one never gives ---- */

struct fake {
	int fd;
	int port;
	const char *answer; /* the whole HTTP response; NULL: accept and never answer */
	char request[8192];
	pthread_t th;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	ssize_t n;
	size_t got = 0;
	int cfd = accept(f->fd, NULL, NULL);

	if (cfd < 0)
		return NULL;
	/* the head and a small body arrive in one or two reads on loopback */
	while (got < sizeof(f->request) - 1 &&
	       (n = read(cfd, f->request + got, sizeof(f->request) - 1 - got)) > 0) {
		got += (size_t)n;
		f->request[got] = '\0';
		if (strstr(f->request, "\r\n\r\n") != NULL)
			break;
	}
	if (f->answer != NULL)
		(void)!write(cfd, f->answer, strlen(f->answer));
	else
		sleep(2);
	close(cfd);
	return NULL;
}

static void fake_start(struct fake *f, const char *answer)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->answer = answer;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->fd, 4), 0);
	getsockname(f->fd, (struct sockaddr *)&sa, &len);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->fd);
}

/* One answer to a kv get: the expected code and a fragment of the message. */
static void fake_get(const char *answer, int want, const char *fragment)
{
	struct fake f;
	struct consul *c;
	struct consul_kv kv;
	char *err = NULL;

	fake_start(&f, answer);
	c = client(f.port, "s3cret", 2000);
	assert_int_equal(consul_kv_get(c, "ns/a b/x", &kv, &err), want);
	consul_kv_clear(&kv); /* zeroed on failure */
	if (strstr(err != NULL ? err : "", fragment) == NULL)
		fail_msg("answer %s: message '%s' lacks '%s'", answer, err, fragment);
	free(err);
	fake_stop(&f);
	/* the token and the escaped key went out */
	assert_non_null(strstr(f.request, "GET /v1/kv/ns/a%20b/x HTTP/1.1\r\n"));
	assert_non_null(strstr(f.request, "X-Consul-Token: s3cret\r\n"));
	consul_free(c);
}

static void test_malformed_answers(void **state)
{
	char buf[512];
	static const struct {
		const char *status, *body;
		int want;
		const char *fragment;
	} cases[] = {
		{ "200 OK", "not json", FS_EINVAL, "malformed JSON" },
		{ "200 OK", "{\"Key\":\"ns/a b/x\"}", FS_EINVAL, "one KV entry" },
		{ "200 OK", "[]", FS_EINVAL, "one KV entry" },
		{ "200 OK", "[{\"Key\":\"ns/a b/x\"}]", FS_EINVAL, "malformed KV entry" },
		{ "200 OK", "[{\"Key\":\"ns/a b/x\",\"ModifyIndex\":\"7\",\"CreateIndex\":1}]",
		  FS_EINVAL, "malformed KV entry" },
		{ "200 OK",
		  "[{\"Key\":\"ns/a b/x\",\"ModifyIndex\":7,\"CreateIndex\":1,"
		  "\"Value\":\"%%%\"}]",
		  FS_EINVAL, "not base64" },
		{ "200 OK", "[{\"Key\":\"other\",\"ModifyIndex\":7,\"CreateIndex\":1}]", FS_EINVAL,
		  "entry of key 'other'" },
		{ "500 Internal Server Error", "rpc error: No cluster leader", FS_EIO,
		  "Consul unavailable: GET of key 'ns/a b/x': HTTP 500: rpc error: No cluster leader" },
		{ "403 Forbidden", "ACL not found", FS_EDENIED,
		  "Consul ACL denied: ACL not found" },
		{ "404 Not Found", "", FS_ENOENT, "no key" },
		{ "200 OK",
		  "[{\"Key\":\"ns/a b/x\",\"ModifyIndex\":7,\"CreateIndex\":1,"
		  "\"Value\":\"eA==\",\"Session\":\"s\"}]",
		  0, "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			 cases[i].status, strlen(cases[i].body), cases[i].body);
		fake_get(buf, cases[i].want, cases[i].fragment);
	}
}

/* One fake answer to a call: its code and the whole message. */
static void fake_denied(const char *status, const char *body, int txn, int want,
			const char *message)
{
	struct consul_op ops[2];
	struct consul_kv kv;
	struct fake f;
	struct consul *c;
	char buf[1024], *err = NULL;

	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 %s\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s", status,
		 strlen(body), body);
	fake_start(&f, buf);
	c = client(f.port, "wrong", 2000);
	claim_ops(ops, "k", "v", "s");
	if (txn)
		assert_int_equal(consul_txn(c, ops, 2, NULL, &err), want);
	else
		assert_int_equal(consul_kv_get(c, "k", &kv, &err), want);
	assert_string_equal(err, message);
	free(err);
	fake_stop(&f);
	consul_free(c);
}

/* An ACL refusal is FS_EDENIED with Consul's text: a 403's body (first line, trimmed, bounded,
 * valid UTF-8), or the Errors of a txn rolled back for want of a permission. */
static void test_acl_denied(void **state)
{
	char long_body[400], want[300];

	(void)state;
	fake_denied("403 Forbidden", "Permission denied", 0, FS_EDENIED,
		    "Consul ACL denied: Permission denied");
	fake_denied("403 Forbidden", "\n  rpc error making call: Permission denied \r\nmore\n", 0,
		    FS_EDENIED, "Consul ACL denied: rpc error making call: Permission denied");
	/* a byte that is not UTF-8 becomes U+FFFD, a control character '?' */
	fake_denied("403 Forbidden", "caf\xc3\xa9 \xff\x01x", 0, FS_EDENIED,
		    "Consul ACL denied: caf\xc3\xa9 \xef\xbf\xbd?x");
	fake_denied("403 Forbidden", "", 0, FS_EDENIED, "Consul ACL denied: (empty answer)");
	/* bounded: 200 bytes, not cut inside a character */
	memset(long_body, 'a', 199);
	memcpy(long_body + 199, "\xc3\xa9tail", 7);
	memset(long_body + 206, 'b', 100);
	long_body[306] = '\0';
	memset(want, 0, sizeof(want));
	memcpy(want, "Consul ACL denied: ", 19);
	memset(want + 19, 'a', 199);
	memcpy(want + 218, "\xc3\xa9", 2);
	fake_denied("403 Forbidden", long_body, 0, FS_EDENIED, want);
	/* what Consul 1.8.7 answers a txn whose op the token may not do */
	fake_denied("409 Conflict",
		    "{\"Results\":null,\"Errors\":[{\"OpIndex\":0,\"What\":"
		    "\"Permission denied\"}]}",
		    1, FS_EDENIED, "Consul ACL denied: Permission denied");
	fake_denied("403 Forbidden", "ACL not found", 1, FS_EDENIED,
		    "Consul ACL denied: ACL not found");
	/* a failed check is not a refusal */
	fake_denied("409 Conflict",
		    "{\"Results\":null,\"Errors\":[{\"OpIndex\":0,\"What\":"
		    "\"failed to lock key \\\"k\\\": check-not-exists failed\"}]}",
		    1, FS_EEXIST, "op 0: failed to lock key \"k\": check-not-exists failed");
}

static void test_malformed_txn_answers(void **state)
{
	static const char *const bodies[] = {
		"{\"Results\":5}",
		"{\"Results\":[{\"KV\":3}]}",
		"{\"Errors\":[{\"What\":1}]}",
		"[]",
		"{\"Results\":[]}", /* a lock's answer without its result */
	};
	struct consul_op ops[2];
	struct fake f;
	struct consul *c;
	char buf[512], *err = NULL;
	size_t i;
	int rc;

	(void)state;
	claim_ops(ops, "k", "v", "s");
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "HTTP/1.1 200 OK\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 strlen(bodies[i]), bodies[i]);
		fake_start(&f, buf);
		c = client(f.port, NULL, 2000);
		rc = consul_txn(c, ops, 2, NULL, &err);
		if (rc != FS_EINVAL)
			fail_msg("txn answer %s: %d %s", bodies[i], rc, err);
		assert_non_null(strstr(err, "Consul answered"));
		free(err);
		err = NULL;
		fake_stop(&f);
		assert_non_null(strstr(f.request, "PUT /v1/txn HTTP/1.1"));
		consul_free(c);
	}
	/* a 409 without Errors is not a lost claim */
	fake_start(&f, "HTTP/1.1 409 Conflict\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
	c = client(f.port, NULL, 2000);
	assert_int_equal(consul_txn(c, ops, 2, NULL, &err), FS_EINVAL);
	free(err);
	fake_stop(&f);
	consul_free(c);
}

/* A Consul that accepts and never answers: the call gives up at the total timeout. */
static void test_timeout(void **state)
{
	struct fake f;
	struct consul *c;
	struct consul_kv kv;
	char *err = NULL;
	int64_t t0;

	(void)state;
	fake_start(&f, NULL);
	c = client(f.port, NULL, 300);
	t0 = clock_mono_ms();
	assert_int_equal(consul_kv_get(c, "k", &kv, &err), FS_EIO);
	assert_true(clock_mono_ms() - t0 < 1500);
	assert_non_null(strstr(err, "Consul unavailable: "));
	assert_non_null(strstr(err, "timed out"));
	free(err);
	fake_stop(&f);
	consul_free(c);
}

/* Nobody renews a session: Consul invalidates it (within 2 x TTL) and releases its lock, and
 * after the lock-delay another session can claim the orphaned key. */
static void test_session_expiry(void **state)
{
	struct consul *c = client(consul_port, NULL, 2000);
	struct consul_op ops[2];
	struct consul_kv kv;
	char *s1 = session(c, 10, 1), *s2 = session(c, 15, 1), *err = NULL;
	int64_t t0 = clock_mono_ms();
	int released = 0;

	(void)state;
	claim_ops(ops, "t/expiry/job", "held", s1);
	assert_int_equal(consul_txn(c, ops, 2, NULL, &err), 0);
	while (clock_mono_ms() - t0 < 35000) {
		/* keep the second session alive meanwhile */
		assert_int_equal(consul_session_renew(c, s2, &err), 0);
		assert_int_equal(consul_kv_get(c, "t/expiry/job", &kv, &err), 0);
		released = kv.session == NULL;
		consul_kv_clear(&kv);
		if (released)
			break;
		sleep(1);
	}
	assert_true(released);
	assert_int_equal(consul_session_renew(c, s1, &err), FS_ENOENT);
	free(err);
	err = NULL;
	sleep(2); /* the lock-delay (1 s) */
	assert_int_equal(consul_kv_get(c, "t/expiry/job", &kv, &err), 0);
	ops[0].verb = CONSUL_CHECK_INDEX;
	ops[0].index = kv.modify_index;
	ops[1].session = s2;
	consul_kv_clear(&kv);
	assert_int_equal(consul_txn(c, ops, 2, NULL, &err), 0);
	free(s1);
	free(s2);
	consul_free(c);
}

int main(void)
{
	const char *port = getenv("FS_CONSUL_PORT"), *slow = getenv("FS_CONSUL_SLOW");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reachable),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_kv_and_escaping),
		cmocka_unit_test(test_kv_lists),
		cmocka_unit_test(test_txn_claim_ops),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_claim_race),
		cmocka_unit_test(test_malformed_value),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_malformed_txn_answers),
		cmocka_unit_test(test_acl_denied),
		cmocka_unit_test(test_timeout),
	};
	const struct CMUnitTest slow_tests[] = {
		cmocka_unit_test(test_session_expiry),
	};
	char *err = NULL;
	int failed;

	if (port == NULL || (consul_port = atoi(port)) <= 0) {
		fprintf(stderr, "FS_CONSUL_PORT: the agent's HTTP port (run consul_client.sh)\n");
		return 99;
	}
	if (consul_global_init(&err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 99;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (slow != NULL && strcmp(slow, "1") == 0)
		failed += cmocka_run_group_tests(slow_tests, NULL, NULL);
	return failed != 0;
}
