/* SPDX-License-Identifier: Apache-2.0 */
/* config: defaults, both command-line forms, the config file, precedence, and every rejection with
 * its exact text. Works in a mkdtemp directory holding a fake runner, removed at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* by path: -I. puts autoconf's own config.h of the build directory ahead of -Icore */
#include "config.h"
#include "err.h"
#include "xalloc.h"

#define MAXARGS 40

static char tmpdir[PATH_MAX];       /* as created */
static char realtmp[PATH_MAX];      /* its realpath (factfile roots are stored resolved) */
static char binpath[PATH_MAX + 16]; /* an executable regular file */
static char *bin_arg;               /* "--factotum-bin=<binpath>" */

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Parses the NULL-terminated arguments (argv[0] = "test"); with_bin puts the fake runner first. */
static int parse_va(struct config *cfg, char **err, int with_bin, va_list ap)
{
	char *argv[MAXARGS];
	int argc = 0;
	const char *a;

	argv[argc++] = (char *)"test";
	if (with_bin)
		argv[argc++] = bin_arg;
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < MAXARGS - 1);
		argv[argc++] = (char *)a;
	}
	argv[argc] = NULL;
	return config_parse(cfg, argc, argv, err);
}

static int parse(struct config *cfg, char **err, ...)
{
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = parse_va(cfg, err, 1, ap);
	va_end(ap);
	return rc;
}

static int parse_raw(struct config *cfg, char **err, ...)
{
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = parse_va(cfg, err, 0, ap);
	va_end(ap);
	return rc;
}

/* want (FS_EINVAL or CONFIG_BAD_USAGE) with exactly the expected text (with_bin as in
 * parse_va). */
static void rejects_va(int with_bin, int want, const char *expected, ...)
{
	struct config cfg;
	char *err = NULL;
	va_list ap;
	int rc;

	config_init(&cfg);
	va_start(ap, expected);
	rc = parse_va(&cfg, &err, with_bin, ap);
	va_end(ap);
	assert_int_equal(rc, want);
	assert_non_null(err);
	assert_string_equal(err, expected);
	free(err);
	config_free(&cfg);
}
#define rejects(expected, ...)     rejects_va(1, FS_EINVAL, expected, __VA_ARGS__, (char *)NULL)
#define rejects_raw(expected, ...) rejects_va(0, FS_EINVAL, expected, __VA_ARGS__, (char *)NULL)
/* a malformed command line rather than a bad value */
#define rejects_usage(expected, ...) \
	rejects_va(1, CONFIG_BAD_USAGE, expected, __VA_ARGS__, (char *)NULL)

/* rejects_va for the one argument "--<opt>=<path>", expecting fmt with path in its "%s"s. */
static void rejects_path(int with_bin, const char *opt, const char *path, const char *fmt)
{
	char *arg = xasprintf("--%s=%s", opt, path);
	char *msg = xasprintf(fmt, path, path);

	rejects_va(with_bin, FS_EINVAL, msg, arg, (char *)NULL);
	free(arg);
	free(msg);
}

/* A config file with text; "--config=<path>" returned (caller frees). */
static char *conf_arg(const char *name, const char *text)
{
	char *path = tpath(name), *arg;

	write_file(path, text, 0644);
	arg = xasprintf("--config=%s", path);
	free(path);
	return arg;
}

/* The expected "<tmpdir>/<name>:<line>: <rest>" text. */
static char *at_line(const char *name, int line, const char *rest)
{
	return xasprintf("%s/%s:%d: %s", tmpdir, name, line, rest);
}

static void test_defaults(void **state)
{
	struct config cfg;
	char *err = NULL;

	(void)state;
	unsetenv("CONSUL_HTTP_TOKEN");
	config_init(&cfg);
	assert_string_equal(cfg.factotum_bin, PKGLIBEXECDIR "/factotum");
	assert_string_equal(cfg.ip, "0.0.0.0");
	assert_int_equal(cfg.port, 3000);
	assert_int_equal(cfg.log_level, CONFIG_LOG_WARN);
	assert_int_equal(cfg.max_jobs, 1000);
	assert_int_equal(cfg.max_workers, 20);
	assert_null(cfg.webhook);
	assert_int_equal(cfg.no_colour, 0);
	assert_string_equal(cfg.consul_name, "factotum");
	assert_string_equal(cfg.consul_ip, "127.0.0.1");
	assert_int_equal(cfg.consul_port, 8500);
	assert_string_equal(cfg.consul_namespace, "com.snowplowanalytics/factotum");
	assert_int_equal(cfg.max_stdouterr_size, 10000);
	assert_string_equal(cfg.spool, LOCALSTATEDIR "/lib/factotum-server");
	assert_null(cfg.fcgi_socket);
	assert_int_equal(cfg.fcgi_threads, 32);
	assert_int_equal(cfg.n_factfile_roots, 0);
	assert_int_equal(cfg.job_timeout, 0);
	assert_int_equal(cfg.log_max_bytes, 1048576);
	assert_int_equal(cfg.spool_sync, CONFIG_SYNC_FULL);
	assert_int_equal(cfg.no_consul, 0);
	assert_null(cfg.consul_token);
	assert_null(cfg.config_file);

	/* parsing nothing but the runner derives the socket and keeps everything else */
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_null(err);
	assert_string_equal(cfg.factotum_bin, binpath);
	assert_string_equal(cfg.fcgi_socket, LOCALSTATEDIR "/lib/factotum-server/fcgi.sock");
	assert_null(cfg.fcgi_host);
	assert_int_equal(cfg.fcgi_port, 0);
	assert_int_equal(cfg.port, 3000);
	assert_null(cfg.factfile_roots);
	config_free(&cfg);
}

/* What a run can do: the defaults, each value's forms, repeats, and the one-line errors. */
static void test_run_options(void **state)
{
	struct config cfg;
	char *err = NULL, *conf;

	(void)state;
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_string_equal(cfg.run_as, "factotum-run");
	assert_string_equal(cfg.run_path, "/usr/local/bin:/usr/bin:/bin");
	assert_int_equal(cfg.allow_shared_user, 0);
	assert_int_equal(cfg.allow_root_runs, 0);
	assert_int_equal(cfg.n_pass_env, 0);
	assert_int_equal(cfg.run_max_processes, 0);
	assert_true(cfg.run_max_memory == 0);
	assert_int_equal(cfg.run_max_open_files, 0);
	config_free(&cfg);

	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--run-as=jobs:staff", "--allow-shared-user",
			       "--allow-root-runs", "--run-path", "/opt/bin:/bin", "--pass-env=A_1",
			       "--pass-env", "_B", "--run-max-processes=50", "--run-max-memory=3G",
			       "--run-max-open-files=256", NULL),
			 0);
	assert_string_equal(cfg.run_as, "jobs:staff");
	assert_int_equal(cfg.allow_shared_user, 1);
	assert_int_equal(cfg.allow_root_runs, 1);
	assert_string_equal(cfg.run_path, "/opt/bin:/bin");
	assert_int_equal(cfg.n_pass_env, 2);
	assert_string_equal(cfg.pass_env[0], "A_1");
	assert_string_equal(cfg.pass_env[1], "_B");
	assert_int_equal(cfg.run_max_processes, 50);
	assert_true(cfg.run_max_memory == 3LL << 30);
	assert_int_equal(cfg.run_max_open_files, 256);
	config_free(&cfg);

	/* sizes: bytes, K, M (either case); a file's --pass-env list gives way to the command
	 * line's */
	conf = conf_arg("run.conf", "run-max-memory = 512k\npass-env = FROM_FILE\n");
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, conf, NULL), 0);
	assert_true(cfg.run_max_memory == 512LL * 1024);
	assert_int_equal(cfg.n_pass_env, 1);
	assert_string_equal(cfg.pass_env[0], "FROM_FILE");
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, conf, "--pass-env=CMD", "--run-max-memory=100", NULL),
			 0);
	assert_true(cfg.run_max_memory == 100);
	assert_int_equal(cfg.n_pass_env, 1);
	assert_string_equal(cfg.pass_env[0], "CMD");
	config_free(&cfg);
	free(conf);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--run-max-memory=7M", NULL), 0);
	assert_true(cfg.run_max_memory == 7LL << 20);
	config_free(&cfg);

	rejects("--run-as: 'a:b:c' is not USER or USER:GROUP", "--run-as=a:b:c");
	rejects("--run-as: 'jobs:' is not USER or USER:GROUP", "--run-as=jobs:");
	rejects("--run-as: ':staff' is not USER or USER:GROUP", "--run-as=:staff");
	rejects("--run-as: 'a b' is not USER or USER:GROUP", "--run-as=a b");
	rejects("--run-path: 'bin:/usr/bin' has an entry that is not an absolute path",
		"--run-path=bin:/usr/bin");
	rejects("--run-path: '/bin::/usr/bin' has an entry that is not an absolute path",
		"--run-path=/bin::/usr/bin");
	rejects("--pass-env: 'PATH' is set by the server, it cannot be passed", "--pass-env=PATH");
	rejects("--pass-env: 'LC_ALL' is set by the server, it cannot be passed",
		"--pass-env=LC_ALL");
	rejects("--pass-env: '1X' is not an environment variable name", "--pass-env=1X");
	rejects("--pass-env: 'A=B' is not an environment variable name", "--pass-env=A=B");
	rejects("--run-max-memory: '12X' is not a number of bytes (N, NK, NM or NG)",
		"--run-max-memory=12X");
	rejects("--run-max-memory: 'G' is not a number of bytes (N, NK, NM or NG)",
		"--run-max-memory=G");
	rejects("--run-max-memory: '1GB' is not a number of bytes (N, NK, NM or NG)",
		"--run-max-memory=1GB");
	rejects("--run-max-memory: '-1' is not a number of bytes (N, NK, NM or NG)",
		"--run-max-memory=-1");
	rejects("--run-max-memory: '99999999999G' is too large", "--run-max-memory=99999999999G");
	rejects("--run-max-processes: '-1' is too small (minimum 0)", "--run-max-processes=-1");
	rejects("--run-max-open-files: 'all' is not a number", "--run-max-open-files=all");
	rejects("--run-as: given more than once", "--run-as=a", "--run-as=b");

	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--run-uid-range=100000-100099", NULL), 0);
	assert_int_equal(cfg.run_uid_first, 100000);
	assert_int_equal(cfg.run_uid_last, 100099);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--run-uid-range=7-7", NULL), 0);
	assert_int_equal(cfg.run_uid_first, 7);
	assert_int_equal(cfg.run_uid_last, 7);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(cfg.run_uid_first, 0);
	assert_int_equal(cfg.run_uid_last, 0);
	config_free(&cfg);
	rejects("--run-uid-range: '0-5' is not a range of uids A-B (1 <= A <= B < 4294967295)",
		"--run-uid-range=0-5");
	rejects("--run-uid-range: '9-8' is not a range of uids A-B (1 <= A <= B < 4294967295)",
		"--run-uid-range=9-8");
	rejects("--run-uid-range: '5' is not a range of uids A-B (1 <= A <= B < 4294967295)",
		"--run-uid-range=5");
	rejects("--run-uid-range: '5-' is not a range of uids A-B (1 <= A <= B < 4294967295)",
		"--run-uid-range=5-");
	rejects("--run-uid-range: '1-4294967295' is not a range of uids A-B (1 <= A <= B < "
		"4294967295)",
		"--run-uid-range=1-4294967295");
	rejects("--run-uid-range: '1-2x' is not a range of uids A-B (1 <= A <= B < 4294967295)",
		"--run-uid-range=1-2x");

	/* --max-queued-per-user: 0 (off) by default, any N >= 0 */
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(cfg.max_queued_per_user, 0);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--max-queued-per-user=3", NULL), 0);
	assert_int_equal(cfg.max_queued_per_user, 3);
	config_free(&cfg);
	rejects("--max-queued-per-user: '-1' is too small (minimum 0)", "--max-queued-per-user=-1");
	rejects("--max-queued-per-user: 'ten' is not a number", "--max-queued-per-user=ten");

	/* --max-schedules: 1000 by default, 1..100000 */
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(cfg.max_schedules, 1000);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--max-schedules=100000", NULL), 0);
	assert_int_equal(cfg.max_schedules, 100000);
	config_free(&cfg);
	rejects("--max-schedules: '0' is too small (minimum 1)", "--max-schedules=0");
	rejects("--max-schedules: '100001' is too large (maximum 100000)",
		"--max-schedules=100001");
}

static void test_default_bin_checked(void **state)
{
	char *msg;

	(void)state;
	if (access(CONFIG_DEFAULT_FACTOTUM_BIN, X_OK) == 0) {
		/* The runner is installed at this prefix: the default must then be accepted. */
		struct config cfg;
		char *err = NULL;
		char *argv[] = { "prog", "--port=1", NULL };
		config_init(&cfg);
		assert_int_equal(config_parse(&cfg, 2, argv, &err), 0);
		assert_string_equal(cfg.factotum_bin, CONFIG_DEFAULT_FACTOTUM_BIN);
		config_free(&cfg);
		return;
	}
	msg = xasprintf("--factotum-bin: Invalid path for Factotum binary at: '%s' (the bundled "
			"runner: No such file or directory)",
			CONFIG_DEFAULT_FACTOTUM_BIN);
	rejects_raw(msg, "--port=1");
	free(msg);
}

static void test_both_forms(void **state)
{
	struct config cfg;
	char *err = NULL, *root = tpath("roots/a"), *sock = tpath("s.sock");
	char *sockarg = xasprintf("--fcgi-socket=%s", sock), *resolved;

	(void)state;
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--ip=::1", "--port", "8080", "--log-level=DeBuG",
			       "--max-jobs", "5", "--max-workers=2", "--webhook",
			       "https://hooks.example.com/x?a=b#c", "--no-colour",
			       "--consul-name=node-1", "--consul-ip", "consul.local",
			       "--consul-port=8501", "--consul-namespace", "a/b.c",
			       "--max-stdouterr-size=77", "--spool", "/srv/fs///", sockarg,
			       "--factfile-root", root, "--job-timeout=0", "--spool-sync", "Normal",
			       "--no-consul", "--fcgi-threads", "64", "--log-max-bytes", "4096",
			       NULL),
			 0);
	assert_null(err);
	assert_int_equal(cfg.log_max_bytes, 4096);
	assert_int_equal(cfg.fcgi_threads, 64);
	assert_string_equal(cfg.ip, "::1");
	assert_int_equal(cfg.port, 8080);
	assert_int_equal(cfg.log_level, CONFIG_LOG_DEBUG);
	assert_int_equal(cfg.max_jobs, 5);
	assert_int_equal(cfg.max_workers, 2);
	assert_string_equal(cfg.webhook, "https://hooks.example.com/x?a=b#c");
	assert_int_equal(cfg.no_colour, 1);
	assert_string_equal(cfg.consul_name, "node-1");
	assert_string_equal(cfg.consul_ip, "consul.local");
	assert_int_equal(cfg.consul_port, 8501);
	assert_string_equal(cfg.consul_namespace, "a/b.c");
	assert_int_equal(cfg.max_stdouterr_size, 77);
	assert_string_equal(cfg.spool, "/srv/fs");
	assert_string_equal(cfg.fcgi_socket, sock);
	assert_null(cfg.fcgi_host);
	assert_int_equal(cfg.fcgi_port, 0);
	assert_int_equal(cfg.n_factfile_roots, 1);
	resolved = xasprintf("%s/roots/a", realtmp);
	assert_string_equal(cfg.factfile_roots[0], resolved);
	assert_int_equal(cfg.job_timeout, 0);
	assert_int_equal(cfg.spool_sync, CONFIG_SYNC_NORMAL);
	assert_int_equal(cfg.no_consul, 1);
	config_free(&cfg);

	/* the derived socket follows a given spool; the root spool does not double its '/' */
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--spool=/srv/x/", "--job-timeout", "3600",
			       "--log-max-bytes=1024", NULL),
			 0);
	assert_string_equal(cfg.fcgi_socket, "/srv/x/fcgi.sock");
	assert_int_equal(cfg.job_timeout, 3600);
	assert_int_equal(cfg.log_max_bytes, 1024);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--spool=/", NULL), 0);
	assert_string_equal(cfg.spool, "/");
	assert_string_equal(cfg.fcgi_socket, "/fcgi.sock");
	config_free(&cfg);

	free(resolved);
	free(root);
	free(sock);
	free(sockarg);
}

static void test_log_levels(void **state)
{
	static const char *const names[] = { "OFF", "error", "Warn", "info", "DEBUG", "trace" };
	struct config cfg;
	char *err = NULL, *arg;
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		config_init(&cfg);
		arg = xasprintf("--log-level=%s", names[i]);
		assert_int_equal(parse(&cfg, &err, arg, NULL), 0);
		assert_int_equal(cfg.log_level, (int)i);
		free(arg);
		config_free(&cfg);
	}
	assert_string_equal(config_log_level_name(CONFIG_LOG_OFF), "off");
	assert_string_equal(config_log_level_name(CONFIG_LOG_TRACE), "trace");
	assert_string_equal(config_log_level_name((enum config_log_level)42), "unknown");
}

static void test_fcgi_socket(void **state)
{
	struct config cfg;
	char *err = NULL, *longpath, *msg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--fcgi-socket", "127.0.0.1:9000", NULL), 0);
	assert_string_equal(cfg.fcgi_socket, "127.0.0.1:9000");
	assert_string_equal(cfg.fcgi_host, "127.0.0.1");
	assert_int_equal(cfg.fcgi_port, 9000);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--fcgi-socket=[::1]:9001", NULL), 0);
	assert_string_equal(cfg.fcgi_host, "::1");
	assert_int_equal(cfg.fcgi_port, 9001);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--fcgi-socket=localhost:65535", NULL), 0);
	assert_string_equal(cfg.fcgi_host, "localhost");
	assert_int_equal(cfg.fcgi_port, 65535);
	config_free(&cfg);

	rejects("--fcgi-socket: 'fcgi.sock' is neither an absolute unix socket path nor HOST:PORT",
		"--fcgi-socket=fcgi.sock");
	rejects("--fcgi-socket: ':9000' is neither an absolute unix socket path nor HOST:PORT",
		"--fcgi-socket=:9000");
	rejects("--fcgi-socket: 'x' is not a number", "--fcgi-socket=host:x");
	rejects("--fcgi-socket: '0' is too small (minimum 1)", "--fcgi-socket=host:0");
	rejects("--fcgi-socket: '::1' is not an IP address or host name (an IPv6 address goes in "
		"brackets)",
		"--fcgi-socket=::1:9000");
	rejects("--fcgi-socket: 'nope' is not an IPv6 address", "--fcgi-socket=[nope]:9000");
	longpath = xasprintf("/%0120d", 0);
	msg = xasprintf(
		"--fcgi-socket: '%s' is too long for a unix socket path (maximum 107 bytes)",
		longpath);
	free(longpath);
	longpath = xasprintf("--fcgi-socket=/%0120d", 0);
	rejects(msg, longpath);
	free(msg);
	free(longpath);
	/* a spool too deep for the derived socket is caught too */
	longpath = xasprintf("--spool=/%0100d", 0);
	msg = xasprintf("--fcgi-socket: the default '/%0100d/fcgi.sock' is too long for a unix "
			"socket path (maximum 107 bytes)",
			0);
	rejects(msg, longpath);
	free(msg);
	free(longpath);
}

static void test_consul_hosts(void **state)
{
	static const char *const good[] = {
		"10.0.0.1", "::1", "fe80::1", "consul", "consul.service.dc1.example.", "a-b.c1",
	};
	static const char *const bad[] = {
		"256.1.1.1", "-a.b", "a-.b", "a..b", "a_b", "http://x", "a b", "[::1]",
	};
	struct config cfg;
	char *err = NULL, *arg, *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		config_init(&cfg);
		arg = xasprintf("--consul-ip=%s", good[i]);
		assert_int_equal(parse(&cfg, &err, arg, NULL), 0);
		assert_string_equal(cfg.consul_ip, good[i]);
		free(arg);
		config_free(&cfg);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arg = xasprintf("--consul-ip=%s", bad[i]);
		msg = xasprintf("--consul-ip: '%s' is not an IP address or host name", bad[i]);
		rejects(msg, arg);
		free(arg);
		free(msg);
	}
	/* 64-character label */
	arg = xasprintf("--consul-ip=%064d.com", 0);
	msg = xasprintf("--consul-ip: '%064d.com' is not an IP address or host name", 0);
	rejects(msg, arg);
	free(arg);
	free(msg);
}

static void test_token(void **state)
{
	struct config cfg;
	char *err = NULL;

	(void)state;
	setenv("CONSUL_HTTP_TOKEN", "s3cr3t", 1);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_string_equal(cfg.consul_token, "s3cr3t");
	config_free(&cfg);
	setenv("CONSUL_HTTP_TOKEN", "", 1);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_null(cfg.consul_token);
	config_free(&cfg);
	unsetenv("CONSUL_HTTP_TOKEN");
}

static void test_help_version(void **state)
{
	struct config cfg;
	char *err = NULL, *usage;

	(void)state;
	config_init(&cfg);
	/* wins over errors anywhere, and touches nothing */
	assert_int_equal(parse_raw(&cfg, &err, "--port=0", "--bogus", "--help", NULL), CONFIG_HELP);
	assert_int_equal(parse_raw(&cfg, &err, "-h", NULL), CONFIG_HELP);
	assert_int_equal(parse_raw(&cfg, &err, "--version", "--port=0", NULL), CONFIG_VERSION);
	assert_null(err);
	assert_int_equal(cfg.port, 3000);
	config_free(&cfg);
	usage = config_usage(CONFIG_PROG_LAUNCHER);
	assert_non_null(strstr(usage, "--factfile-root=DIR"));
	assert_non_null(strstr(usage, "CONSUL_HTTP_TOKEN"));
	assert_non_null(strstr(usage, "--log-max-bytes=N"));
	assert_non_null(strstr(usage, "--htpasswd=FILE"));
	free(usage);
}

/* Each program's --help: the options it uses, each with its continuation lines, and the lines
 * that are no option. */
static void test_usage_per_program(void **state)
{
	char *fcgi = config_usage(CONFIG_PROG_FCGI), *worker = config_usage(CONFIG_PROG_WORKER);

	(void)state;
	assert_true(strncmp(fcgi, "Options (also as 'name = value'", 31) == 0);
	assert_non_null(strstr(fcgi, "\n  --fcgi-threads=N "));
	assert_non_null(strstr(fcgi, "\n  --fcgi-socket=PATH|HOST:PORT where the responder listens"
				     " [SPOOL/fcgi.sock;\n                               as root"));
	assert_non_null(strstr(fcgi, "\n  --max-workers=N "));
	assert_non_null(strstr(fcgi, "\n  --webhook=URL "));
	assert_null(strstr(fcgi, "--run-as"));
	assert_null(strstr(fcgi, "--htpasswd"));
	assert_null(strstr(fcgi, "--retain-done"));
	assert_non_null(strstr(worker,
			       "\n  --run-as=USER[:GROUP]        the runner's user (when the "
			       "worker may switch)\n                               ["));
	assert_non_null(strstr(worker, "\n  --retain-consul=DURATION "));
	assert_null(strstr(worker, "--fcgi-socket"));
	assert_null(strstr(worker, "as root /run/factotum-server")); /* --fcgi-socket's 2nd line */
	assert_null(strstr(worker, "--limit-req"));
	assert_null(strstr(worker, "(0..65535)")); /* --limit-conn's 2nd line */
	assert_null(strstr(worker, "--max-tasks"));
	assert_non_null(strstr(worker, "\n  --help, --version\nEnvironment: CONSUL_HTTP_ADDR"));
	assert_non_null(strstr(fcgi, "\n  --help, --version\nEnvironment: CONSUL_HTTP_ADDR"));
	free(fcgi);
	free(worker);
}

static void test_file(void **state)
{
	struct config cfg;
	char *err = NULL, *root = tpath("roots/a"), *text, *arg;

	(void)state;
	text = xasprintf("# a comment\n"
			 "\n"
			 "   \t\n"
			 "  # an indented comment\n"
			 "port=4000\n"
			 "  ip   =   127.0.0.2  \t\n"
			 "log-level = trace\r\n"
			 "webhook = http://h.example/p#not-a-comment\n"
			 "no-colour\n"
			 "no-consul = FALSE\n"
			 "consul-namespace = x/y\n"
			 "factfile-root = %s\n"
			 "factfile-root = %s/roots/b/\n"
			 "factotum-bin = %s\n"
			 "spool-sync = normal\n"
			 "fcgi-threads = 8\n"
			 "log-max-bytes = 65536\n"
			 "job-timeout = 10", /* no final newline */
			 root, tmpdir, binpath);
	arg = conf_arg("good.conf", text);
	config_init(&cfg);
	assert_int_equal(parse_raw(&cfg, &err, arg, NULL), 0);
	assert_null(err);
	assert_int_equal(cfg.port, 4000);
	assert_string_equal(cfg.ip, "127.0.0.2");
	assert_int_equal(cfg.log_level, CONFIG_LOG_TRACE);
	assert_string_equal(cfg.webhook, "http://h.example/p#not-a-comment");
	assert_int_equal(cfg.no_colour, 1);
	assert_int_equal(cfg.no_consul, 0);
	assert_string_equal(cfg.consul_namespace, "x/y");
	assert_int_equal(cfg.n_factfile_roots, 2);
	free(text);
	text = xasprintf("%s/roots/a", realtmp);
	assert_string_equal(cfg.factfile_roots[0], text);
	free(text);
	text = xasprintf("%s/roots/b", realtmp);
	assert_string_equal(cfg.factfile_roots[1], text);
	assert_string_equal(cfg.factotum_bin, binpath);
	assert_int_equal(cfg.spool_sync, CONFIG_SYNC_NORMAL);
	assert_int_equal(cfg.job_timeout, 10);
	assert_int_equal(cfg.fcgi_threads, 8);
	assert_int_equal(cfg.log_max_bytes, 65536);
	assert_string_equal(cfg.config_file + strlen(tmpdir), "/good.conf");
	config_free(&cfg);
	free(text);
	free(arg);
	free(root);

	/* an empty file is fine */
	arg = conf_arg("empty.conf", "");
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, arg, NULL), 0);
	assert_int_equal(cfg.port, 3000);
	config_free(&cfg);
	free(arg);
}

static void test_command_line_wins(void **state)
{
	struct config cfg;
	char *err = NULL, *arg, *text, *rootarg, *expect;

	(void)state;
	/* the file's bad port and missing runner are never looked at: the command line gave both */
	text = xasprintf("port = banana\nfactotum-bin = /nonexistent\nmax-jobs = 7\n"
			 "no-colour = true\nfactfile-root = %s/roots/a\n",
			 tmpdir);
	arg = conf_arg("wins.conf", text);
	rootarg = xasprintf("--factfile-root=%s/roots/b", tmpdir);
	expect = xasprintf("%s/roots/b", realtmp);

	config_init(&cfg); /* --config first */
	assert_int_equal(parse(&cfg, &err, arg, "--port", "5000", rootarg, NULL), 0);
	assert_int_equal(cfg.port, 5000);
	assert_int_equal(cfg.max_jobs, 7);
	assert_int_equal(cfg.no_colour, 1);
	assert_int_equal(cfg.n_factfile_roots, 1); /* the command line's list replaces the file's */
	assert_string_equal(cfg.factfile_roots[0], expect);
	config_free(&cfg);

	config_init(&cfg); /* --config last */
	assert_int_equal(parse(&cfg, &err, "--port=5001", "--max-jobs=8", arg, NULL), 0);
	assert_int_equal(cfg.port, 5001);
	assert_int_equal(cfg.max_jobs, 8);
	assert_int_equal(cfg.n_factfile_roots, 1);
	config_free(&cfg);

	/* without the command line's port, the file's is checked */
	free(expect);
	expect = at_line("wins.conf", 1, "port: 'banana' is not a number");
	rejects(expect, arg);
	free(expect);
	free(rootarg);
	free(arg);
	free(text);
}

static void test_factotum_bin(void **state)
{
	char *noexec = tpath("noexec"), *dir = tpath("roots"), *missing = tpath("missing");
	char *arg, *msg, *text;
	struct config cfg;
	char *err = NULL;

	(void)state;
	rejects_path(0, "factotum-bin", noexec,
		     "--factotum-bin: Invalid path for Factotum binary at: '%s' (not executable)");
	rejects_path(
		0, "factotum-bin", dir,
		"--factotum-bin: Invalid path for Factotum binary at: '%s' (not a regular file)");
	rejects_path(0, "factotum-bin", missing,
		     "--factotum-bin: Invalid path for Factotum binary "
		     "at: '%s' (No such file or directory)");

	/* from a file: the line is named */
	text = xasprintf("\nfactotum-bin = %s\n", noexec);
	arg = conf_arg("bin.conf", text);
	free(text);
	text = xasprintf("factotum-bin: Invalid path for Factotum binary at: '%s' "
			 "(not executable)",
			 noexec);
	msg = at_line("bin.conf", 2, text);
	rejects_raw(msg, arg);
	free(text);
	free(msg);
	free(arg);

	/* the same file with 0755 is fine */
	assert_int_equal(chmod(noexec, 0755), 0);
	config_init(&cfg);
	arg = xasprintf("--factotum-bin=%s", noexec);
	assert_int_equal(parse_raw(&cfg, &err, arg, NULL), 0);
	assert_string_equal(cfg.factotum_bin, noexec);
	config_free(&cfg);
	assert_int_equal(chmod(noexec, 0644), 0);
	free(arg);

	free(noexec);
	free(dir);
	free(missing);
}

static void test_rejects_values(void **state)
{
	(void)state;
	/* ports: digits only, 1..65535, never a silent default */
	rejects("--port: '0' is too small (minimum 1)", "--port=0");
	rejects("--port: '65536' is too large (maximum 65535)", "--port=65536");
	rejects("--port: '-1' is too small (minimum 1)", "--port", "-1");
	rejects("--port: 'http' is not a number", "--port=http");
	rejects("--port: '+80' is not a number", "--port=+80");
	rejects("--port: ' 80' is not a number", "--port= 80");
	rejects("--port: '80x' is not a number", "--port=80x");
	rejects("--port: '-' is not a number", "--port=-");
	rejects("--consul-port: '99999999999999999999999' is too large (maximum 65535)",
		"--consul-port=99999999999999999999999");
	/* sizes */
	rejects("--max-jobs: '0' is too small (minimum 1)", "--max-jobs=0");
	rejects("--max-workers: '-3' is too small (minimum 1)", "--max-workers=-3");
	rejects("--max-stdouterr-size: '0' is too small (minimum 1)", "--max-stdouterr-size=0");
	rejects("--max-jobs: '2147483648' is too large (maximum 2147483647)",
		"--max-jobs=2147483648");
	rejects("--max-workers: '1e3' is not a number", "--max-workers=1e3");
	rejects("--job-timeout: '-1' is too small (minimum 0)", "--job-timeout=-1");
	rejects("--job-timeout: '-99999999999999999999' is too small (minimum 0)",
		"--job-timeout=-99999999999999999999");
	rejects("--job-timeout: '1.5' is not a number", "--job-timeout=1.5");
	rejects("--log-max-bytes: '1023' is too small (minimum 1024)", "--log-max-bytes=1023");
	rejects("--log-max-bytes: '2147483648' is too large (maximum 2147483647)",
		"--log-max-bytes=2147483648");
	rejects("--log-max-bytes: '1M' is not a number", "--log-max-bytes=1M");
	rejects("--fcgi-threads: '0' is too small (minimum 1)", "--fcgi-threads=0");
	rejects("--fcgi-threads: '1025' is too large (maximum 1024)", "--fcgi-threads=1025");
	rejects("--fcgi-threads: 'many' is not a number", "--fcgi-threads", "many");
	/* words */
	rejects("--log-level: Unknown log level: 'loud'\nPlease select a valid log level.",
		"--log-level=loud");
	/* the value's control bytes are shown, the second line's newline is the text's own */
	rejects("--log-level: Unknown log level: 'a\\x0ab'\nPlease select a valid log level.",
		"--log-level=a\nb");
	rejects("--spool-sync: unknown mode 'fast' (expected full or normal)", "--spool-sync=fast");
	/* addresses */
	rejects("--ip: Invalid IP address: [localhost] - Regex mismatch", "--ip=localhost");
	rejects("--ip: Invalid IP address: [1.2.3.256] - Regex mismatch", "--ip=1.2.3.256");
	rejects("--ip: Invalid IP address: [[::1]] - Regex mismatch", "--ip=[::1]");
	rejects("--webhook: 'ftp://x.example' is not an http:// or https:// URL",
		"--webhook=ftp://x.example");
	rejects("--webhook: 'http://' is not an http:// or https:// URL", "--webhook=http://");
	rejects("--webhook: 'https:///path' is not an http:// or https:// URL",
		"--webhook=https:///path");
	rejects("--webhook: 'http://a b' is not an http:// or https:// URL", "--webhook",
		"http://a b");
	rejects("--webhook: 'x.example/hook' is not an http:// or https:// URL",
		"--webhook=x.example/hook");
	/* a newline in a value cannot break the one line */
	rejects("--webhook: 'ftp://a\\x0ab' is not an http:// or https:// URL",
		"--webhook=ftp://a\nb");
	/* namespace */
	rejects("--consul-namespace: '/com/x' must not start or end with '/'",
		"--consul-namespace=/com/x");
	rejects("--consul-namespace: 'com/x/' must not start or end with '/'",
		"--consul-namespace=com/x/");
	rejects("--consul-namespace: 'com//x' has an empty segment ('//')",
		"--consul-namespace=com//x");
	rejects("--consul-namespace: 'com x' must not contain blanks, control characters, '?', "
		"'#' or '%'",
		"--consul-namespace=com x");
	rejects("--consul-namespace: 'a?b' must not contain blanks, control characters, '?', "
		"'#' or '%'",
		"--consul-namespace=a?b");
	/* paths */
	rejects("--spool: 'var/spool' is not an absolute path", "--spool=var/spool");
	rejects("--factfile-root: 'roots' is not an absolute path", "--factfile-root=roots");
}

static void test_rejects_roots(void **state)
{
	char *missing = tpath("missing"), *file = tpath("noexec");

	(void)state;
	rejects_path(1, "factfile-root", missing,
		     "--factfile-root: '%s': No such file or directory");
	rejects_path(1, "factfile-root", file, "--factfile-root: '%s' is not a directory");
	free(missing);
	free(file);
}

static void test_rejects_syntax(void **state)
{
	(void)state;
	rejects_usage("unknown option '--colour'", "--colour");
	rejects_usage("unknown option '--prot'", "--prot=80");
	rejects_usage("unexpected argument 'run'", "run");
	rejects_usage("unexpected argument '-p'", "-p", "80");
	rejects_usage("unexpected argument '--'", "--");
	rejects_usage("unknown option '--'", "--=x");
	rejects_usage("--port: missing value", "--port");
	rejects_usage("--port: missing value", "--port=");
	rejects_usage("--port: missing value", "--port", "--ip=::");
	rejects_usage("--webhook: missing value", "--webhook", "");
	rejects("--no-colour: takes no value", "--no-colour=true");
	rejects("--no-consul: takes no value", "--no-consul=");
	rejects_usage("unexpected argument 'false'", "--no-consul", "false");
	rejects("--port: given more than once", "--port=80", "--port=80");
	rejects("--no-colour: given more than once", "--no-colour", "--no-colour");
	rejects("--config: given more than once", "--config=/a", "--config", "/b");
	rejects_usage("--config: missing value", "--config");
}

static void test_rejects_file(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} cases[] = {
		{ "port 80\n", 1, "malformed line (expected 'name = value')" },
		{ "\n= 80\n", 2, "malformed line (expected 'name = value')" },
		{ "--port = 80\n", 1, "malformed line (expected 'name = value')" },
		{ "#\nport: 80\n", 2, "malformed line (expected 'name = value')" },
		{ "colour = on\n", 1, "unknown option 'colour'" },
		{ "Port = 80\n", 1, "unknown option 'Port'" },
		{ "help\n", 1, "unknown option 'help'" },
		{ "config = /etc/other.conf\n", 1, "config: not allowed in a config file" },
		{ "port =\n", 1, "port: missing value" },
		{ "port\n", 1, "port: missing value" },
		{ "no-consul = yes\n", 1, "no-consul: 'yes' is not true or false" },
		{ "no-consul =\n", 1, "no-consul: missing value" },
		{ "port = 80\n\nport = 81\n", 3, "port: given more than once (first on line 1)" },
		{ "no-colour\nno-colour = false\n", 2,
		  "no-colour: given more than once (first on line 1)" },
		{ "log-level = chatty\n", 1,
		  "log-level: Unknown log level: 'chatty'\n"
		  "Please select a valid log level." },
		{ "port = 70000 # comment\n", 1, "port: '70000 # comment' is not a number" },
		{ "max-workers = 0\n", 1, "max-workers: '0' is too small (minimum 1)" },
		{ "fcgi-threads = 2000\n", 1, "fcgi-threads: '2000' is too large (maximum 1024)" },
	};
	char *arg, *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		arg = conf_arg("bad.conf", cases[i].text);
		msg = at_line("bad.conf", cases[i].line, cases[i].msg);
		rejects(msg, arg);
		free(arg);
		free(msg);
	}
}

static void test_rejects_unreadable(void **state)
{
	char *missing = tpath("missing.conf");
	FILE *f;

	(void)state;
	rejects_path(1, "config", missing, "--config: cannot read '%s': No such file or directory");
	/* a directory opens but cannot be read */
	rejects_path(1, "config", tmpdir, "--config: cannot read '%s': Is a directory");

	/* a NUL byte in a line */
	f = fopen(missing, "w");
	assert_non_null(f);
	assert_int_equal(fwrite("port = 8\0\n", 1, 10, f), 10);
	assert_int_equal(fclose(f), 0);
	rejects_path(1, "config", missing, "%s:1: malformed line (contains a NUL byte)");
	free(missing);
}

/* --user, --allow-root, --fcgi-socket-group: defaults, both sources, names refused; whether a
 * name exists is checked by the programs (only as root), not here. */
static void test_service_user(void **state)
{
	struct config cfg;
	char *err = NULL, *conf;

	(void)state;
	config_init(&cfg);
	assert_string_equal(cfg.user, "factotum-server");
	assert_int_equal(cfg.allow_root, 0);
	assert_null(cfg.fcgi_socket_group);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(cfg.fcgi_socket_default, 1);
	config_free(&cfg);

	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--user", "svc_1.x-y", "--allow-root",
			       "--fcgi-socket-group=web", "--fcgi-socket=/srv/f.sock", NULL),
			 0);
	assert_string_equal(cfg.user, "svc_1.x-y");
	assert_int_equal(cfg.allow_root, 1);
	assert_string_equal(cfg.fcgi_socket_group, "web");
	assert_int_equal(cfg.fcgi_socket_default, 0);
	config_free(&cfg);

	conf = conf_arg("svc.conf", "user = other\nallow-root = false\nfcgi-socket-group = g\n");
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, conf, NULL), 0);
	assert_string_equal(cfg.user, "other");
	assert_int_equal(cfg.allow_root, 0);
	assert_string_equal(cfg.fcgi_socket_group, "g");
	config_free(&cfg);
	free(conf);

	rejects("--user: 'a b' is not a user or group name", "--user=a b");
	rejects("--user: '-x' is not a user or group name", "--user=-x");
	rejects("--user: 'r\\x0aoot' is not a user or group name", "--user=r\noot");
	rejects("--user: '012345678901234567890123456789012' is not a user or group name",
		"--user=012345678901234567890123456789012");
	rejects("--fcgi-socket-group: 'a/b' is not a user or group name",
		"--fcgi-socket-group=a/b");
	rejects("--allow-root: takes no value", "--allow-root=yes");
}

/* --template-values: strict by default, either word in any case, from the file too. */
static void test_template_values(void **state)
{
	struct config cfg;
	char *err = NULL, *arg, *msg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_int_equal(cfg.template_values, CONFIG_TEMPLATE_STRICT);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--template-values", "Factotum", NULL), 0);
	assert_int_equal(cfg.template_values, CONFIG_TEMPLATE_FACTOTUM);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--template-values=strict", NULL), 0);
	assert_int_equal(cfg.template_values, CONFIG_TEMPLATE_STRICT);
	config_free(&cfg);
	arg = conf_arg("tv.conf", "template-values = factotum\n");
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, arg, NULL), 0);
	assert_int_equal(cfg.template_values, CONFIG_TEMPLATE_FACTOTUM);
	config_free(&cfg);
	free(arg);
	assert_null(err);
	rejects("--template-values: unknown mode 'loose' (expected strict or factotum)",
		"--template-values=loose");
	rejects_usage("--template-values: missing value", "--template-values=");
	arg = conf_arg("tv-bad.conf", "template-values = any\n");
	msg = at_line("tv-bad.conf", 1,
		      "template-values: unknown mode 'any' (expected strict or factotum)");
	rejects(msg, arg);
	free(msg);
	free(arg);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char *p;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL || realpath(tmpdir, realtmp) == NULL)
		return -1;
	snprintf(binpath, sizeof(binpath), "%s/factotum", tmpdir);
	write_file(binpath, "#!/bin/sh\nexit 0\n", 0755);
	p = tpath("noexec");
	write_file(p, "#!/bin/sh\nexit 0\n", 0644);
	free(p);
	p = tpath("roots");
	mkdir(p, 0755);
	free(p);
	p = tpath("roots/a");
	mkdir(p, 0755);
	free(p);
	p = tpath("roots/b");
	mkdir(p, 0755);
	free(p);
	bin_arg = xasprintf("--factotum-bin=%s", binpath);
	unsetenv("CONSUL_HTTP_TOKEN");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(bin_arg);
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_max_tasks(void **state)
{
	struct config cfg;
	char *err = NULL, *conf;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.max_tasks, 10000); /* the default */
	conf = conf_arg("tasks.conf", "max-tasks = 20000\n");
	assert_int_equal(parse(&cfg, &err, conf, NULL), 0);
	assert_int_equal(cfg.max_tasks, 20000);
	config_free(&cfg);
	free(conf);
	rejects("--max-tasks: '0' is too small (minimum 1)", "--max-tasks=0");
	rejects("--max-tasks: '-5' is too small (minimum 1)", "--max-tasks", "-5");
}

static void test_disk_options(void **state)
{
	struct config cfg;
	char *err = NULL, *conf;

	(void)state;
	config_init(&cfg);
	assert_true(cfg.min_free_space == 64LL * 1024 * 1024); /* the default */
	/* the run root defaults to the spool's runs/ */
	assert_int_equal(parse(&cfg, &err, "--spool=/var/x/", NULL), 0);
	assert_string_equal(cfg.run_root, "/var/x/runs");
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--spool=/", NULL), 0);
	assert_string_equal(cfg.run_root, "/runs");
	config_free(&cfg);
	conf = conf_arg("disk.conf", "run-root = /scratch/runs//\nmin-free-space = 0\n");
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, conf, NULL), 0);
	assert_string_equal(cfg.run_root, "/scratch/runs");
	assert_true(cfg.min_free_space == 0);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, conf, "--min-free-space=16M", NULL), 0);
	assert_true(cfg.min_free_space == 16LL * 1024 * 1024);
	config_free(&cfg);
	free(conf);
	rejects("--run-root: 'runs' is not an absolute path", "--run-root=runs");
	rejects("--min-free-space: '1T' is not a number of bytes (N, NK, NM or NG)",
		"--min-free-space=1T");
}

/* --retain-done (a duration), --retain-max-done, --keep-run-dirs */
static void test_retention(void **state)
{
	struct config cfg;
	char *err = NULL, *conf;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.retain_done, 30LL * 86400); /* the defaults */
	assert_int_equal(cfg.retain_max_done, 0);
	assert_int_equal(cfg.keep_run_dirs, 0);
	conf = conf_arg("retain.conf", "retain-done = 12h\nretain-max-done = 5\nkeep-run-dirs\n");
	assert_int_equal(parse(&cfg, &err, conf, NULL), 0);
	assert_int_equal(cfg.retain_done, 12LL * 3600);
	assert_int_equal(cfg.retain_max_done, 5);
	assert_int_equal(cfg.keep_run_dirs, 1);
	assert_int_equal(parse(&cfg, &err, "--retain-done=90s", NULL), 0);
	assert_int_equal(cfg.retain_done, 90);
	assert_int_equal(parse(&cfg, &err, "--retain-done", "3m", NULL), 0);
	assert_int_equal(cfg.retain_done, 180);
	assert_int_equal(parse(&cfg, &err, "--retain-done=30d", NULL), 0);
	assert_int_equal(cfg.retain_done, 30LL * 86400);
	config_free(&cfg);
	free(conf);
	rejects("--retain-done: '30' is not a duration (Ns, Nm, Nh or Nd)", "--retain-done=30");
	rejects("--retain-done: 'd' is not a duration (Ns, Nm, Nh or Nd)", "--retain-done=d");
	rejects("--retain-done: '1w' is not a duration (Ns, Nm, Nh or Nd)", "--retain-done=1w");
	rejects("--retain-done: '2dd' is not a duration (Ns, Nm, Nh or Nd)", "--retain-done=2dd");
	rejects("--retain-done: '-1s' is not a duration (Ns, Nm, Nh or Nd)", "--retain-done=-1s");
	rejects("--retain-done: '9999999999999999d' is too large",
		"--retain-done=9999999999999999d");
	rejects("--retain-max-done: '-1' is too small (minimum 0)", "--retain-max-done=-1");
}

/* ---- Consul's address, TLS and token (core/consulconf.h) ---- */

static const char *const consul_vars[] = {
	"CONSUL_HTTP_ADDR",       "CONSUL_HTTP_SSL",        "CONSUL_HTTP_SSL_VERIFY",
	"CONSUL_CACERT",          "CONSUL_CAPATH",          "CONSUL_CLIENT_CERT",
	"CONSUL_CLIENT_KEY",      "CONSUL_TLS_SERVER_NAME", "CONSUL_HTTP_TOKEN",
	"CONSUL_HTTP_TOKEN_FILE",
};

static void consul_env_clear(void)
{
	size_t i;

	for (i = 0; i < sizeof(consul_vars) / sizeof(consul_vars[0]); i++)
		unsetenv(consul_vars[i]);
}

/* Parses the arguments and checks the derived URL, address and socket (NULL: none). */
static void consul_derives(const char *url, const char *address, const char *sock,
			   const char *connect_to, const char *arg1, const char *arg2)
{
	struct config cfg;
	char *err = NULL;

	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, arg1, arg2, NULL), 0);
	assert_null(err);
	assert_string_equal(cfg.consul_url, url);
	assert_string_equal(cfg.consul_address, address);
	if (sock == NULL)
		assert_null(cfg.consul_socket);
	else
		assert_string_equal(cfg.consul_socket, sock);
	if (connect_to == NULL)
		assert_null(cfg.consul_connect_to);
	else
		assert_string_equal(cfg.consul_connect_to, connect_to);
	config_free(&cfg);
}

static void test_consul_addr(void **state)
{
	(void)state;
	consul_env_clear();
	/* the default, and --consul-ip/--consul-port */
	consul_derives("http://127.0.0.1:8500", "http://127.0.0.1:8500", NULL, NULL, NULL, NULL);
	consul_derives("http://[::1]:8600", "http://[::1]:8600", NULL, NULL, "--consul-ip=::1",
		       "--consul-port=8600");
	/* every form CONSUL_HTTP_ADDR takes */
	consul_derives("http://10.0.0.1:8500", "http://10.0.0.1:8500", NULL, NULL,
		       "--consul-addr=10.0.0.1:8500", NULL);
	consul_derives("http://consul.local:8500", "http://consul.local:8500", NULL, NULL,
		       "--consul-addr=http://consul.local:8500", NULL);
	consul_derives("https://consul.local:8501", "https://consul.local:8501", NULL, NULL,
		       "--consul-addr=https://consul.local:8501", NULL);
	consul_derives("http://[::1]:8500", "http://[::1]:8500", NULL, NULL,
		       "--consul-addr=http://[::1]:8500", NULL);
	consul_derives("https://consul:443", "https://consul:443", NULL, NULL,
		       "--consul-addr=https://consul", NULL);
	consul_derives("http://consul:80", "http://consul:80", NULL, NULL, "--consul-addr=consul",
		       NULL);
	consul_derives("http://localhost", "unix:///run/consul/http.sock", "/run/consul/http.sock",
		       NULL, "--consul-addr=unix:///run/consul/http.sock", NULL);
	/* CONSUL_HTTP_SSL makes an address without a scheme https, not one with http:// */
	setenv("CONSUL_HTTP_SSL", "true", 1);
	consul_derives("https://127.0.0.1:8501", "https://127.0.0.1:8501", NULL, NULL,
		       "--consul-addr=127.0.0.1:8501", NULL);
	consul_derives("https://127.0.0.1:8500", "https://127.0.0.1:8500", NULL, NULL, NULL, NULL);
	consul_derives("http://127.0.0.1:8500", "http://127.0.0.1:8500", NULL, NULL,
		       "--consul-addr=http://127.0.0.1:8500", NULL);
	setenv("CONSUL_HTTP_SSL", "0", 1);
	consul_derives("http://127.0.0.1:8501", "http://127.0.0.1:8501", NULL, NULL,
		       "--consul-addr=127.0.0.1:8501", NULL);
	setenv("CONSUL_HTTP_SSL", "yes", 1);
	rejects("CONSUL_HTTP_SSL: 'yes' is not true or false", "--consul-addr=127.0.0.1:8501");
	unsetenv("CONSUL_HTTP_SSL");
	/* the certificate's name: the URL names it, libcurl connects to the address */
	consul_derives("https://server.dc1.consul:8501", "https://127.0.0.1:8501", NULL,
		       "server.dc1.consul:8501:127.0.0.1:8501",
		       "--consul-addr=https://127.0.0.1:8501",
		       "--consul-tls-server-name=server.dc1.consul");
	consul_derives("http://127.0.0.1:8500", "http://127.0.0.1:8500", NULL, NULL,
		       "--consul-addr=http://127.0.0.1:8500",
		       "--consul-tls-server-name=server.dc1.consul");

	rejects("--consul-addr: 'ftp://consul:21' has an unknown scheme (http://, https:// or "
		"unix://)",
		"--consul-addr=ftp://consul:21");
	rejects("--consul-addr: 'unix://run/consul.sock': the socket is not an absolute path",
		"--consul-addr=unix://run/consul.sock");
	rejects("--consul-addr: '::1:8500': an IPv6 address goes in brackets ([::1]:8500)",
		"--consul-addr=::1:8500");
	rejects("--consul-addr: 'consul:0': the port is not a number 1..65535",
		"--consul-addr=consul:0");
	rejects("--consul-addr: 'https://consul:65536': the port is not a number 1..65535",
		"--consul-addr=https://consul:65536");
	rejects("--consul-addr: 'http://consul:8500/v1' is not HOST[:PORT], http://HOST[:PORT], "
		"https://HOST[:PORT] or unix:///PATH",
		"--consul-addr=http://consul:8500/v1");
	rejects("--consul-addr: 'http://bad_host:8500' is not HOST[:PORT], http://HOST[:PORT], "
		"https://HOST[:PORT] or unix:///PATH",
		"--consul-addr=http://bad_host:8500");
	rejects("--consul-addr: 'http://[nothex]:8500' is not HOST[:PORT], http://HOST[:PORT], "
		"https://HOST[:PORT] or unix:///PATH",
		"--consul-addr=http://[nothex]:8500");
	rejects("--consul-tls-server-name: 'a b' is not a host name",
		"--consul-tls-server-name=a b");
}

/* Option, then environment, then default; --consul-addr excludes --consul-ip/--consul-port. */
static void test_consul_precedence(void **state)
{
	struct config cfg;
	char *err = NULL, *ca = tpath("ca.pem"), *ca2 = tpath("ca2.pem"), *conf, *arg;

	(void)state;
	consul_env_clear();
	write_file(ca, "x", 0644);
	write_file(ca2, "x", 0644);
	setenv("CONSUL_HTTP_ADDR", "https://consul.env:8501", 1);
	setenv("CONSUL_CACERT", ca, 1);
	setenv("CONSUL_HTTP_SSL_VERIFY", "false", 1);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_string_equal(cfg.consul_addr, "https://consul.env:8501");
	assert_string_equal(cfg.consul_url, "https://consul.env:8501");
	assert_string_equal(cfg.consul_cacert, ca);
	assert_int_equal(cfg.consul_ssl_verify, 0);
	config_free(&cfg);

	/* each option wins over its variable, from the command line or the file */
	arg = xasprintf("--consul-cacert=%s", ca2);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--consul-addr=https://consul.opt:9501", arg,
			       "--consul-ssl-verify=true", NULL),
			 0);
	assert_string_equal(cfg.consul_url, "https://consul.opt:9501");
	assert_string_equal(cfg.consul_cacert, ca2);
	assert_int_equal(cfg.consul_ssl_verify, 1);
	config_free(&cfg);
	free(arg);
	arg = xasprintf("consul-addr = unix:///run/c.sock\nconsul-ssl-verify = TRUE\n");
	conf = conf_arg("consul.conf", arg);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, conf, NULL), 0);
	assert_string_equal(cfg.consul_socket, "/run/c.sock");
	assert_int_equal(cfg.consul_ssl_verify, 1);
	config_free(&cfg);
	free(conf);
	free(arg);

	/* --consul-ip or --consul-port is an address given as an option: it wins over the
	 * variable, and cannot go with --consul-addr */
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--consul-port=8600", NULL), 0);
	assert_null(cfg.consul_addr);
	assert_string_equal(cfg.consul_url, "http://127.0.0.1:8600");
	config_free(&cfg);
	rejects("--consul-addr: cannot be given with --consul-ip (one address)",
		"--consul-addr=consul:8500", "--consul-ip=10.0.0.1");
	rejects("--consul-addr: cannot be given with --consul-port (one address)",
		"--consul-port=8501", "--consul-addr=consul:8500");
	conf = conf_arg("both.conf", "consul-ip = 10.0.0.1\n");
	rejects("--consul-addr: cannot be given with --consul-ip (one address)",
		"--consul-addr=consul:8500", conf);
	free(conf);

	/* a bad variable is an error at start; --no-consul reads none of them */
	setenv("CONSUL_HTTP_ADDR", "gopher://x", 1);
	rejects("CONSUL_HTTP_ADDR: 'gopher://x' has an unknown scheme (http://, https:// or "
		"unix://)",
		"--log-level=info");
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, "--no-consul", NULL), 0);
	assert_null(cfg.consul_url);
	config_free(&cfg);
	unsetenv("CONSUL_HTTP_ADDR");
	setenv("CONSUL_HTTP_SSL_VERIFY", "maybe", 1);
	rejects("CONSUL_HTTP_SSL_VERIFY: 'maybe' is not true or false", "--log-level=info");
	unsetenv("CONSUL_HTTP_SSL_VERIFY");
	rejects("--consul-ssl-verify: 'maybe' is not true or false", "--consul-ssl-verify=maybe");
	rejects_usage("--consul-ssl-verify: missing value", "--consul-ssl-verify");

	/* files are checked when the program starts */
	setenv("CONSUL_CACERT", "/nonexistent/ca.pem", 1);
	rejects("CONSUL_CACERT: cannot read '/nonexistent/ca.pem': No such file or directory",
		"--log-level=info");
	unsetenv("CONSUL_CACERT");
	rejects("--consul-capath: '/dev/null' is not a directory", "--consul-capath=/dev/null");
	rejects("--consul-client-cert: '/' is not a regular file", "--consul-client-cert=/");
	arg = xasprintf("--consul-client-cert=%s", ca);
	rejects("--consul-client-cert: needs a client key too (--consul-client-key or "
		"CONSUL_CLIENT_KEY)",
		arg);
	free(arg);
	setenv("CONSUL_CLIENT_KEY", ca, 1);
	rejects("CONSUL_CLIENT_KEY: needs a client certificate too (--consul-client-cert or "
		"CONSUL_CLIENT_CERT)",
		"--log-level=info");
	consul_env_clear();
	free(ca);
	free(ca2);
}

/* The token: --consul-token-file, then CONSUL_HTTP_TOKEN_FILE, then CONSUL_HTTP_TOKEN. */
static void test_consul_token_file(void **state)
{
	struct config cfg;
	char *err = NULL, *tok = tpath("token"), *tok2 = tpath("token2"), *arg, *msg;

	(void)state;
	consul_env_clear();
	write_file(tok, "  \t0f1e2d3c-aaaa-bbbb-cccc-000000000001\n\n", 0600);
	write_file(tok2, "from-env-file", 0640);
	setenv("CONSUL_HTTP_TOKEN", "from-env", 1);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_string_equal(cfg.consul_token, "from-env");
	config_free(&cfg);
	setenv("CONSUL_HTTP_TOKEN_FILE", tok2, 1);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, NULL), 0);
	assert_string_equal(cfg.consul_token, "from-env-file");
	config_free(&cfg);
	arg = xasprintf("--consul-token-file=%s", tok);
	config_init(&cfg);
	assert_int_equal(parse(&cfg, &err, arg, NULL), 0);
	assert_string_equal(cfg.consul_token, "0f1e2d3c-aaaa-bbbb-cccc-000000000001");
	config_free(&cfg);
	free(arg);

	/* refused: empty, readable by everyone, missing, holding a control character */
	write_file(tok, " \n", 0600);
	msg = xasprintf("--consul-token-file: '%s' is empty", tok);
	arg = xasprintf("--consul-token-file=%s", tok);
	rejects(msg, arg);
	free(msg);
	write_file(tok, "t", 0604);
	msg = xasprintf("--consul-token-file: '%s' is readable by every user: a token is a "
			"secret (chmod o-r)",
			tok);
	rejects(msg, arg);
	free(msg);
	write_file(tok, "a\001b", 0600);
	msg = xasprintf("--consul-token-file: '%s' holds a control character inside the token",
			tok);
	rejects(msg, arg);
	free(msg);
	free(arg);
	setenv("CONSUL_HTTP_TOKEN_FILE", "/nonexistent/token", 1);
	rejects("CONSUL_HTTP_TOKEN_FILE: cannot read '/nonexistent/token': No such file or "
		"directory",
		"--log-level=info");
	consul_env_clear();
	setenv("CONSUL_HTTP_TOKEN", "a\nX-Injected: 1", 1);
	rejects("CONSUL_HTTP_TOKEN: holds a control character", "--log-level=info");
	consul_env_clear();
	free(tok);
	free(tok2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_default_bin_checked),
		cmocka_unit_test(test_both_forms),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_fcgi_socket),
		cmocka_unit_test(test_consul_hosts),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_usage_per_program),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_command_line_wins),
		cmocka_unit_test(test_factotum_bin),
		cmocka_unit_test(test_rejects_values),
		cmocka_unit_test(test_rejects_roots),
		cmocka_unit_test(test_rejects_syntax),
		cmocka_unit_test(test_rejects_file),
		cmocka_unit_test(test_rejects_unreadable),
		cmocka_unit_test(test_service_user),
		cmocka_unit_test(test_run_options),
		cmocka_unit_test(test_template_values),
		cmocka_unit_test(test_max_tasks),
		cmocka_unit_test(test_disk_options),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_consul_addr),
		cmocka_unit_test(test_consul_precedence),
		cmocka_unit_test(test_consul_token_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
