/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for launcher/nginxconf: placeholder substitution, the listen address and upstream
 * (IPv6 in brackets), who may connect (protected mode, --htpasswd, --trust-network) and TLS, the
 * check of the files those options name, the per-client limits, and the files written from the
 * built-in templates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "nginxconf.h"
#include "xalloc.h"

static void test_subst(void **state)
{
	const char *key[] = { "@A@", "@B@" };
	const char *val[] = { "1", "@A@" };
	char *s;

	(void)state;
	s = nginxconf_subst("x @B@ @A@@A@ y", key, val, 2);
	assert_string_equal(s, "x @A@ 11 y"); /* a value is never substituted again */
	free(s);
	assert_null(nginxconf_subst("only @A@", key, val, 2)); /* @B@ missing */
}

static void test_addresses(void **state)
{
	struct config cfg;
	char *s;

	(void)state;
	config_init(&cfg);
	free(cfg.ip);
	cfg.ip = xstrdup("::1");
	cfg.port = 3001;
	cfg.fcgi_socket = xstrdup("/srv/s/fcgi.sock");
	s = nginxconf_listen(&cfg);
	assert_string_equal(s, "[::1]:3001");
	free(s);
	s = nginxconf_upstream(&cfg);
	assert_string_equal(s, "unix:/srv/s/fcgi.sock");
	free(s);
	cfg.fcgi_host = xstrdup("fe80::2");
	cfg.fcgi_port = 9000;
	s = nginxconf_upstream(&cfg);
	assert_string_equal(s, "[fe80::2]:9000");
	free(s);
	config_free(&cfg);
}

static void test_access(void **state)
{
	struct config cfg;
	char *s;

	(void)state;
	config_init(&cfg);
	s = nginxconf_access(&cfg);
	assert_string_equal(s, "        # protected mode: neither --htpasswd nor --trust-network\n"
			       "        allow 127.0.0.1;\n"
			       "        allow ::1;\n"
			       "        deny all;\n");
	free(s);
	cfg.trust_network = 1;
	s = nginxconf_access(&cfg);
	assert_string_equal(s, "        # --trust-network: every client, no authentication\n");
	free(s);
	/* --htpasswd wins over --trust-network: the operator asked for authentication */
	cfg.htpasswd = xstrdup("/etc/fs/htpasswd");
	cfg.tls_cert = xstrdup("/etc/fs/a b.crt");
	cfg.tls_key = xstrdup("/etc/fs/a b.key");
	s = nginxconf_access(&cfg);
	assert_string_equal(s, "        auth_basic \"factotum-server\";\n"
			       "        auth_basic_user_file \"/etc/fs/htpasswd\";\n"
			       "        ssl_certificate \"/etc/fs/a b.crt\";\n"
			       "        ssl_certificate_key \"/etc/fs/a b.key\";\n");
	free(s);
	config_free(&cfg);
}

static void test_check_files(void **state)
{
	char dir[] = "/tmp/test_nginxconf.XXXXXX", *file, *missing;
	struct config cfg;
	char *err = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	file = xasprintf("%s/htpasswd", dir);
	missing = xasprintf("%s/missing", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	config_init(&cfg);
	assert_int_equal(nginxconf_check(&cfg, &err), 0); /* nothing named, on 0.0.0.0 */
	/* protected mode on an address no loopback client can use */
	free(cfg.ip);
	cfg.ip = xstrdup("192.0.2.1");
	assert_int_equal(nginxconf_check(&cfg, &err), FS_EINVAL);
	assert_string_equal(err,
			    "--ip: no client could reach 192.0.2.1: without --htpasswd FILE or "
			    "--trust-network only 127.0.0.1 and ::1 are admitted");
	free(err);
	err = NULL;
	cfg.trust_network = 1;
	assert_int_equal(nginxconf_check(&cfg, &err), 0);
	cfg.trust_network = 0;
	free(cfg.ip);
	cfg.ip = xstrdup("127.0.0.5");
	assert_int_equal(nginxconf_check(&cfg, &err), 0);
	free(cfg.ip);
	cfg.ip = xstrdup("::");
	assert_int_equal(nginxconf_check(&cfg, &err), 0);
	free(cfg.ip);
	cfg.ip = xstrdup("fe80::1");
	assert_int_equal(nginxconf_check(&cfg, &err), FS_EINVAL);
	free(err);
	err = NULL;
	cfg.htpasswd = xstrdup(file);
	cfg.tls_cert = xstrdup(file);
	cfg.tls_key = xstrdup(file);
	assert_int_equal(nginxconf_check(&cfg, &err), 0);
	assert_null(err);
	free(cfg.tls_key);
	cfg.tls_key = xstrdup(missing);
	assert_int_equal(nginxconf_check(&cfg, &err), FS_EINVAL);
	assert_non_null(err);
	assert_non_null(strstr(err, "--tls-key: cannot read '"));
	assert_non_null(strstr(err, "/missing': No such file or directory"));
	free(err);
	err = NULL;
	free(cfg.htpasswd);
	cfg.htpasswd = xstrdup(dir);
	assert_int_equal(nginxconf_check(&cfg, &err), FS_EINVAL);
	assert_non_null(strstr(err, "--htpasswd: '"));
	assert_non_null(strstr(err, "' is not a regular file"));
	free(err);
	config_free(&cfg);
	unlink(file);
	rmdir(dir);
	free(file);
	free(missing);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

/* text holds each string of has[] and none of lacks[] (both NULL-terminated). */
static void assert_holds(const char *text, const char *const has[], const char *const lacks[])
{
	size_t i;

	for (i = 0; has[i] != NULL; i++)
		if (strstr(text, has[i]) == NULL)
			fail_msg("missing: %s", has[i]);
	for (i = 0; lacks[i] != NULL; i++)
		if (strstr(text, lacks[i]) != NULL)
			fail_msg("present: %s", lacks[i]);
}

/* Removes what nginxconf_write wrote under dir, and dir. */
static void remove_written(const char *dir)
{
	const char *const files[] = { "nginx.conf", "factotum-server.conf",
				      "factotum-server-location.conf",
				      "factotum-server-limits.conf" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	p = xasprintf("%s/tmp", dir);
	rmdir(p);
	free(p);
	rmdir(dir);
}

static void test_write(void **state)
{
	char dir[] = "/tmp/test_nginxconf.XXXXXX", *p, *conf, *site, *loc;
	struct nginxconf nc = { NULL, "www-data", "www-data", "/srv/fs-www" };
	struct config cfg;
	char *err = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	nc.prefix = dir;
	config_init(&cfg);
	cfg.fcgi_socket = xstrdup("/srv/s/fcgi.sock");
	assert_int_equal(nginxconf_write(&nc, &cfg, &err), 0);
	p = xasprintf("%s/nginx.conf", dir);
	conf = slurp(p);
	free(p);
	p = xasprintf("%s/factotum-server-location.conf", dir);
	loc = slurp(p);
	free(p);
	p = xasprintf("%s/factotum-server.conf", dir);
	site = slurp(p);
	{
		const char *has[] = { "\nuser www-data www-data;\n",
				      "listen 0.0.0.0:3000;",
				      "\n        include ",
				      p,
				      "daemon off;",
				      "\n        deny all;\n",
				      "error_page 497 @factotum_497;",
				      NULL };
		const char *lacks[] = { " ssl;", "ssl_certificate", "@LISTEN@", "@ACCESS@", NULL };

		assert_holds(conf, has, lacks);
	}
	/* the drop-in includes the location file beside it; the 403 says why (protected mode) */
	free(p);
	p = xasprintf("\nlocation = /submit {\n    include %s/factotum-server-location.conf;\n}\n",
		      dir);
	{
		const char *has[] = {
			p,
			"\nlocation = / {\n",
			"\nlocation = /metrics {\n",
			"\nlocation ^~ /ui/ {\n    alias /srv/fs-www/;\n",
			"return 403 '{\"message\":\"Error: Forbidden: this node admits only 127.0.0.1 "
			"and ::1 until",
			"return 429 '{\"message\":\"Error: Too many requests from this client, retry "
			"later\"}';",
			NULL
		};
		const char *lacks[] = { "@pkgdatadir@", "\nlocation / ", "Error: Forbidden\"}",
					NULL };

		assert_holds(site, has, lacks);
	}
	assert_non_null(strstr(loc, "\nfastcgi_pass unix:/srv/s/fcgi.sock;\n"));
	assert_non_null(strstr(loc, "\nerror_page 403 @factotum_403;\n"));
	assert_null(strstr(loc, "unix:/run/factotum-server/fcgi.sock"));
	free(conf);

	/* HTTPS: the listen directive takes "ssl"; the certificate and key are in the server block;
	 * not root: no user directive */
	nc.user = nc.group = NULL;
	cfg.port = 3443;
	cfg.trust_network = 1;
	cfg.tls_cert = xstrdup("/k/c.pem");
	cfg.tls_key = xstrdup("/k/k.pem");
	assert_int_equal(nginxconf_write(&nc, &cfg, &err), 0);
	free(p);
	p = xasprintf("%s/nginx.conf", dir);
	conf = slurp(p);
	{
		const char *has[] = { "\n        listen 0.0.0.0:3443 ssl;\n",
				      "\n        ssl_certificate \"/k/c.pem\";\n",
				      "\n        ssl_certificate_key \"/k/k.pem\";\n",
				      "\n# (not started as root: no user directive)\n", NULL };
		const char *lacks[] = { "deny all;", "\n        auth_basic \"", NULL };

		assert_holds(conf, has, lacks);
	}
	free(p);
	remove_written(dir);
	free(conf);
	free(site);
	free(loc);
	free(err);
	config_free(&cfg);
}

/* What the shipped location and limits files hold: the launcher's defaults. */
static const char *const default_site[] = { "\nlimit_req zone=factotum_req burst=200 nodelay;\n",
					    "\nlimit_conn factotum_conn 64;\n",
					    "\nlimit_req_status 429;\n",
					    "\nlimit_conn_status 429;\n",
					    "\nclient_body_timeout 5s;\n",
					    "\nerror_page 429 @factotum_429;\n",
					    NULL };
static const char *const default_limits[] = {
	"\nlimit_req_zone $binary_remote_addr zone=factotum_req:10m rate=100r/s;\n",
	"\nlimit_conn_zone $binary_remote_addr zone=factotum_conn:10m;\n",
	"\nclient_header_timeout 5s;\n", NULL
};
static const char *const none[] = { NULL };

/* Writes a node's files for cfg into dir; nginx.conf has nginx's room for connections and
 * includes the limits file, the location file holds site_has and none of site_lacks, the limits
 * file holds limits_has. */
static void check_limits(const char *dir, const struct config *cfg, const char *const site_has[],
			 const char *const site_lacks[], const char *const limits_has[])
{
	struct nginxconf nc = { dir, NULL, NULL, "/srv/fs-www" };
	const char *conf_has[] = { "\nworker_rlimit_nofile 16384;\n",
				   "\n    worker_connections 8192;\n", NULL, NULL };
	const char *const conf_lacks[] = { "@LIMITS@", NULL };
	char *err = NULL, *conf, *site, *limits, *p;

	assert_int_equal(nginxconf_write(&nc, cfg, &err), 0);
	p = xasprintf("%s/nginx.conf", dir);
	conf = slurp(p);
	free(p);
	p = xasprintf("%s/factotum-server-location.conf", dir);
	site = slurp(p);
	free(p);
	p = xasprintf("%s/factotum-server-limits.conf", dir);
	limits = slurp(p);
	conf_has[2] = xasprintf("\n    include %s;\n", p);
	free(p);
	assert_holds(conf, conf_has, conf_lacks);
	assert_holds(site, site_has, site_lacks);
	assert_holds(limits, limits_has, none);
	free((char *)conf_has[2]);
	free(conf);
	free(site);
	free(limits);
}

static void test_limits(void **state)
{
	char dir[] = "/tmp/test_nginxconf.XXXXXX";
	const char *const five_site[] = { "\nlimit_req zone=factotum_req burst=10 nodelay;\n",
					  "\nlimit_conn factotum_conn 2;\n", NULL };
	const char *const five_lacks[] = { "burst=200", "limit_conn factotum_conn 64;", NULL };
	const char *const five_limits[] = { " zone=factotum_req:10m rate=5r/s;\n", NULL };
	const char *const zero_site[] = { "\n# limit_req: none (--limit-req 0)\n",
					  "\n# limit_conn: none (--limit-conn 0)\n", NULL };
	const char *const zero_lacks[] = { "\nlimit_req zone", "\nlimit_conn factotum_conn", NULL };
	struct config cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	config_init(&cfg);
	cfg.fcgi_socket = xstrdup("/srv/s/fcgi.sock");
	check_limits(dir, &cfg, default_site, none, default_limits);
	/* the options: burst twice the rate */
	cfg.limit_req = 5;
	cfg.limit_conn = 2;
	check_limits(dir, &cfg, five_site, five_lacks, five_limits);
	/* 0: no limit_req or limit_conn line at all (the zones stay, unused) */
	cfg.limit_req = 0;
	cfg.limit_conn = 0;
	check_limits(dir, &cfg, zero_site, zero_lacks, default_limits);
	remove_written(dir);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subst),  cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_access), cmocka_unit_test(test_check_files),
		cmocka_unit_test(test_write),  cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
