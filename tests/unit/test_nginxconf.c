/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for launcher/nginxconf: placeholder substitution, the listen address and upstream
 * (IPv6 in brackets), and the files written from the built-in templates. */
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

static void test_write(void **state)
{
	char dir[] = "/tmp/test_nginxconf.XXXXXX", *p, *conf, *site;
	struct nginxconf nc = { NULL, "www-data", "www-data" };
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
	p = xasprintf("%s/factotum-server.conf", dir);
	site = slurp(p);
	assert_non_null(strstr(conf, "\nuser www-data www-data;\n"));
	assert_non_null(strstr(conf, "listen 0.0.0.0:3000;"));
	assert_non_null(strstr(conf, "include "));
	assert_non_null(strstr(conf, p));
	assert_non_null(strstr(conf, "daemon off;"));
	assert_null(strstr(conf, "@LISTEN@"));
	assert_non_null(strstr(site, "fastcgi_pass unix:/srv/s/fcgi.sock;"));
	assert_null(strstr(site, "unix:/run/factotum-server/fcgi.sock"));
	unlink(p);
	free(p);
	p = xasprintf("%s/nginx.conf", dir);
	unlink(p);
	free(p);
	p = xasprintf("%s/tmp", dir);
	rmdir(p);
	free(p);
	rmdir(dir);
	free(conf);
	free(site);
	free(err);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subst),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
