/* SPDX-License-Identifier: Apache-2.0 */
/* Options from the command line and the config file; the rules are in config.h.
 * One table drives both sources, so an option is spelled, checked and stored in one place. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "argpolicy.h"
#include "consulconf.h"
#include "err.h"
#include "xalloc.h"

#define CONFIG_UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

enum config_kind {
	KIND_STRING,    /* char *, checked by opt->check */
	KIND_INT,       /* int in [min, max] */
	KIND_FLAG,      /* int 0/1; takes no value on the command line, true|false in a file */
	KIND_LOG_LEVEL, /* enum config_log_level */
	KIND_SYNC,      /* enum config_spool_sync */
	KIND_ROOT,      /* appended to factfile_roots */
	KIND_FCGI,      /* fcgi_socket, fcgi_host, fcgi_port */
	KIND_CONFIG,    /* --config: command line only */
	KIND_PASS_ENV,  /* appended to pass_env */
	KIND_BYTES,     /* long long, a number of bytes with an optional K, M or G */
	KIND_UID_RANGE, /* run_uid_first, run_uid_last */
	KIND_RATE,      /* int in [min, max], N or Nr/s */
	KIND_TEMPLATE_VALUES, /* enum config_template_values */
	KIND_DURATION,        /* long long seconds: N with s, m, h or d */
	KIND_BOOL,            /* int 0/1, true|false wherever given (unlike a flag) */
};

struct config_option {
	const char *name;
	enum config_kind kind;
	size_t offset;
	long long min, max;
	/* KIND_STRING only (may be NULL): 0 if value is acceptable, else FS_EINVAL with *errp set */
	int (*check)(const char *value, const char *where, char **errp);
};

static int config_check_bin(const char *value, const char *where, char **errp);
static int config_check_ip(const char *value, const char *where, char **errp);
static int config_check_webhook(const char *value, const char *where, char **errp);
static int config_check_consul_ip(const char *value, const char *where, char **errp);
static int config_check_namespace(const char *value, const char *where, char **errp);
static int config_check_spool(const char *value, const char *where, char **errp);
static int config_check_nginx_file(const char *value, const char *where, char **errp);
static int config_check_name(const char *value, const char *where, char **errp);
static int config_check_run_as(const char *value, const char *where, char **errp);
static int config_check_run_path(const char *value, const char *where, char **errp);
static int config_check_client_webhooks(const char *value, const char *where, char **errp);
static int config_check_webhook_hosts(const char *value, const char *where, char **errp);

#define OPT_STR(n, f, chk)                                            \
	{                                                             \
		n, KIND_STRING, offsetof(struct config, f), 0, 0, chk \
	}
#define OPT_INT(n, f, lo, hi)                                         \
	{                                                             \
		n, KIND_INT, offsetof(struct config, f), lo, hi, NULL \
	}
#define OPT_FLAG(n, f)                                               \
	{                                                            \
		n, KIND_FLAG, offsetof(struct config, f), 0, 0, NULL \
	}
#define OPT_KIND(n, k)              \
	{                           \
		n, k, 0, 0, 0, NULL \
	}

static const struct config_option config_options[] = {
	OPT_KIND("config", KIND_CONFIG),
	OPT_STR("factotum-bin", factotum_bin, config_check_bin),
	OPT_STR("ip", ip, config_check_ip),
	OPT_INT("port", port, 1, 65535),
	OPT_KIND("log-level", KIND_LOG_LEVEL),
	OPT_INT("max-jobs", max_jobs, 1, INT_MAX),
	OPT_INT("max-workers", max_workers, 1, INT_MAX),
	OPT_STR("webhook", webhook, config_check_webhook),
	OPT_FLAG("no-colour", no_colour),
	OPT_STR("consul-name", consul_name, NULL),
	OPT_STR("consul-ip", consul_ip, config_check_consul_ip),
	OPT_INT("consul-port", consul_port, 1, 65535),
	OPT_STR("consul-namespace", consul_namespace, config_check_namespace),
	OPT_INT("max-stdouterr-size", max_stdouterr_size, 1, INT_MAX),
	OPT_STR("spool", spool, config_check_spool),
	OPT_KIND("fcgi-socket", KIND_FCGI),
	OPT_INT("fcgi-threads", fcgi_threads, 1, CONFIG_MAX_FCGI_THREADS),
	OPT_KIND("factfile-root", KIND_ROOT),
	OPT_INT("job-timeout", job_timeout, 0, INT_MAX),
	OPT_INT("log-max-bytes", log_max_bytes, CONFIG_MIN_LOG_MAX_BYTES, INT_MAX),
	OPT_KIND("spool-sync", KIND_SYNC),
	OPT_FLAG("no-consul", no_consul),
	OPT_STR("htpasswd", htpasswd, config_check_nginx_file),
	OPT_FLAG("trust-network", trust_network),
	OPT_STR("tls-cert", tls_cert, config_check_nginx_file),
	OPT_STR("tls-key", tls_key, config_check_nginx_file),
	OPT_STR("user", user, config_check_name),
	OPT_FLAG("allow-root", allow_root),
	OPT_STR("fcgi-socket-group", fcgi_socket_group, config_check_name),
	OPT_STR("run-as", run_as, config_check_run_as),
	OPT_FLAG("allow-shared-user", allow_shared_user),
	OPT_FLAG("allow-root-runs", allow_root_runs),
	OPT_STR("run-path", run_path, config_check_run_path),
	OPT_KIND("pass-env", KIND_PASS_ENV),
	OPT_INT("run-max-processes", run_max_processes, 0, INT_MAX),
	{ "run-max-memory", KIND_BYTES, offsetof(struct config, run_max_memory), 0, 0, NULL },
	OPT_INT("run-max-open-files", run_max_open_files, 0, INT_MAX),
	OPT_KIND("run-uid-range", KIND_UID_RANGE),
	{ "limit-req", KIND_RATE, offsetof(struct config, limit_req), 0, CONFIG_MAX_LIMIT_REQ,
	  NULL },
	OPT_INT("limit-conn", limit_conn, 0, CONFIG_MAX_LIMIT_CONN),
	OPT_KIND("template-values", KIND_TEMPLATE_VALUES),
	OPT_STR("client-webhooks", client_webhooks, config_check_client_webhooks),
	OPT_STR("client-webhook-hosts", client_webhook_hosts, config_check_webhook_hosts),
	OPT_INT("max-tasks", max_tasks, 1, INT_MAX),
	OPT_INT("max-queued-per-user", max_queued_per_user, 0, INT_MAX),
	OPT_STR("run-root", run_root, config_check_spool),
	{ "min-free-space", KIND_BYTES, offsetof(struct config, min_free_space), 0, 0, NULL },
	{ "retain-done", KIND_DURATION, offsetof(struct config, retain_done), 0, 0, NULL },
	OPT_INT("retain-max-done", retain_max_done, 0, INT_MAX),
	OPT_FLAG("keep-run-dirs", keep_run_dirs),
	{ "retain-consul", KIND_DURATION, offsetof(struct config, retain_consul), 0, 0, NULL },
	OPT_STR("consul-addr", consul_addr, NULL),
	OPT_STR("consul-cacert", consul_cacert, NULL),
	OPT_STR("consul-capath", consul_capath, NULL),
	OPT_STR("consul-client-cert", consul_client_cert, NULL),
	OPT_STR("consul-client-key", consul_client_key, NULL),
	OPT_STR("consul-tls-server-name", consul_tls_server_name, NULL),
	{ "consul-ssl-verify", KIND_BOOL, offsetof(struct config, consul_ssl_verify), 0, 0, NULL },
	OPT_STR("consul-token-file", consul_token_file, NULL),
	OPT_INT("max-schedules", max_schedules, 1, CONFIG_MAX_SCHEDULES),
};

#define CONFIG_NOPTS (sizeof(config_options) / sizeof(config_options[0]))

static const char *const config_level_names[] = {
	"off", "error", "warn", "info", "debug", "trace",
};

/* Every control byte is shown as \xNN, so that a value holding a newline still makes one line. */
int config_fail(char **errp, const char *fmt, ...)
{
	va_list ap;
	char *raw;
	struct buf out;
	const unsigned char *p;

	va_start(ap, fmt);
	raw = xvasprintf(fmt, ap);
	va_end(ap);
	buf_init(&out);
	for (p = (const unsigned char *)raw; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_printf(&out, "\\x%02x", *p);
		else
			buf_putc(&out, (char)*p);
	}
	err_set(errp, FS_EINVAL, "%s", out.data != NULL ? out.data : "");
	buf_free(&out);
	free(raw);
	return FS_EINVAL;
}

/* config_fail for a malformed command line: returns CONFIG_BAD_USAGE. */
static int config_fail_usage(char **errp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int config_fail_usage(char **errp, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	config_fail(errp, "%s", msg);
	free(msg);
	return CONFIG_BAD_USAGE;
}

/* The original server's two lines (the value shown as config_fail shows it). */
static int config_fail_level(char **errp, const char *value, const char *where)
{
	char *first = NULL;

	config_fail(&first, "%s: Unknown log level: '%s'", where, value);
	err_set(errp, FS_EINVAL, "%s\nPlease select a valid log level.", first);
	free(first);
	return FS_EINVAL;
}

/* ---- value checks ---- */

/* The original server's text, then why; what is "" or "the bundled runner: " (for the default,
 * which the user did not type). */
static int config_check_executable(const char *path, const char *what, const char *where,
				   char **errp)
{
	struct stat st;
	const char *why = NULL;

	if (stat(path, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (access(path, X_OK) != 0)
		why = "not executable";
	if (why == NULL)
		return 0;
	return config_fail(errp, "%s: Invalid path for Factotum binary at: '%s' (%s%s)", where,
			   path, what, why);
}

static int config_check_bin(const char *value, const char *where, char **errp)
{
	return config_check_executable(value, "", where, errp);
}

static int config_is_ip(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static int config_check_ip(const char *value, const char *where, char **errp)
{
	/* the original server's text (its check was a regular expression; this one is inet_pton) */
	if (!config_is_ip(value))
		return config_fail(errp, "%s: Invalid IP address: [%s] - Regex mismatch", where,
				   value);
	return 0;
}

/* RFC 1123 host name: dot-separated labels of 1..63 letters, digits and '-', not starting or
 * ending with '-', 253 characters at most (one trailing dot allowed); the last label is not all
 * digits, so that "256.1.1.1" is a bad address rather than a host name. */
static int config_is_hostname(const char *s)
{
	size_t len = strlen(s), label = 0, i;
	int all_digits = 1;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			if (i == len && all_digits)
				return 0;
			label = 0;
			all_digits = 1;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		if (label == 0 && s[i] == '-')
			return 0;
		if (!isdigit((unsigned char)s[i]))
			all_digits = 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int config_host_ok(const char *s)
{
	return config_is_ip(s) || config_is_hostname(s);
}

static int config_check_consul_ip(const char *value, const char *where, char **errp)
{
	if (!config_host_ok(value))
		return config_fail(errp, "%s: '%s' is not an IP address or host name", where,
				   value);
	return 0;
}

/* http:// or https:// (scheme in any case, as URL parsers take it), then a host, no blanks. */
static int config_check_webhook(const char *value, const char *where, char **errp)
{
	const char *rest = NULL, *p;

	if (strncasecmp(value, "http://", 7) == 0)
		rest = value + 7;
	else if (strncasecmp(value, "https://", 8) == 0)
		rest = value + 8;
	if (rest == NULL || *rest == '\0' || strchr("/?#:", *rest) != NULL)
		goto bad;
	for (p = value; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			goto bad;
	return 0;
bad:
	return config_fail(errp, "%s: '%s' is not an http:// or https:// URL", where, value);
}

/* The prefix of Consul keys: "<namespace>/<jobId>" must be one clean key path. */
static int config_check_namespace(const char *value, const char *where, char **errp)
{
	size_t len = strlen(value);
	const char *p;

	if (value[0] == '/' || value[len - 1] == '/')
		return config_fail(errp, "%s: '%s' must not start or end with '/'", where, value);
	if (strstr(value, "//") != NULL)
		return config_fail(errp, "%s: '%s' has an empty segment ('//')", where, value);
	for (p = value; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || strchr("?#%", *p))
			return config_fail(errp,
					   "%s: '%s' must not contain blanks, control "
					   "characters, '?', '#' or '%%'",
					   where, value);
	return 0;
}

static int config_check_spool(const char *value, const char *where, char **errp)
{
	if (value[0] != '/')
		return config_fail(errp, "%s: '%s' is not an absolute path", where, value);
	return 0;
}

/* A user or group name as useradd takes it (whether it exists is checked where it is used:
 * only a program started as root needs it). */
static int config_check_name(const char *value, const char *where, char **errp)
{
	size_t len = strlen(value);

	if (len > 32 || value[0] == '-' ||
	    value[strspn(value,
			 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] !=
		    '\0')
		return config_fail(errp, "%s: '%s' is not a user or group name", where, value);
	return 0;
}

/* Decimal digits with an optional '-'; saturates instead of overflowing. */
static int config_parse_int(const char *value, long long min, long long max, int *out,
			    const char *where, char **errp)
{
	const char *p = value;
	int neg = 0;
	long long n = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p == '\0')
		return config_fail(errp, "%s: '%s' is not a number", where, value);
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return config_fail(errp, "%s: '%s' is not a number", where, value);
		if (n <= (LLONG_MAX - 9) / 10)
			n = n * 10 + (*p - '0');
		else
			n = LLONG_MAX;
	}
	if (neg)
		n = -n;
	if (n < min)
		return config_fail(errp, "%s: '%s' is too small (minimum %lld)", where, value, min);
	if (n > max)
		return config_fail(errp, "%s: '%s' is too large (maximum %lld)", where, value, max);
	*out = (int)n;
	return 0;
}

static int config_parse_flag(const char *value, int *out, const char *where, char **errp)
{
	if (strcasecmp(value, "true") == 0)
		*out = 1;
	else if (strcasecmp(value, "false") == 0)
		*out = 0;
	else
		return config_fail(errp, "%s: '%s' is not true or false", where, value);
	return 0;
}

static int config_set_fcgi(struct config *cfg, const char *value, const char *where, char **errp)
{
	const char *colon;
	char *host = NULL;
	size_t hlen;
	int port = 0, rc = FS_EINVAL;

	if (value[0] == '/') {
		if (strlen(value) > CONFIG_UNIX_PATH_MAX) {
			config_fail(errp,
				    "%s: '%s' is too long for a unix socket path (maximum %zu "
				    "bytes)",
				    where, value, CONFIG_UNIX_PATH_MAX);
			goto done;
		}
	} else {
		colon = strrchr(value, ':');
		if (colon == NULL || colon == value) {
			config_fail(errp,
				    "%s: '%s' is neither an absolute unix socket path nor "
				    "HOST:PORT",
				    where, value);
			goto done;
		}
		hlen = (size_t)(colon - value);
		if (value[0] == '[' && value[hlen - 1] == ']' && hlen > 2) {
			unsigned char addr[sizeof(struct in6_addr)];

			host = xstrndup(value + 1, hlen - 2);
			if (inet_pton(AF_INET6, host, addr) != 1) {
				config_fail(errp, "%s: '%s' is not an IPv6 address", where, host);
				goto done;
			}
		} else {
			host = xstrndup(value, hlen);
			if (strchr(host, ':') != NULL ||
			    (!config_is_ip(host) && !config_is_hostname(host))) {
				config_fail(errp,
					    "%s: '%s' is not an IP address or host name (an IPv6 "
					    "address goes in brackets)",
					    where, host);
				goto done;
			}
		}
		if (config_parse_int(colon + 1, 1, 65535, &port, where, errp) != 0)
			goto done;
	}
	free(cfg->fcgi_socket);
	free(cfg->fcgi_host);
	cfg->fcgi_socket = xstrdup(value);
	cfg->fcgi_host = host;
	cfg->fcgi_port = port;
	host = NULL;
	rc = 0;
done:
	free(host);
	return rc;
}

static int config_add_root(struct config *cfg, const char *value, const char *where, char **errp)
{
	char resolved[PATH_MAX];
	struct stat st;

	if (value[0] != '/')
		return config_fail(errp, "%s: '%s' is not an absolute path", where, value);
	if (realpath(value, resolved) == NULL || stat(resolved, &st) != 0)
		return config_fail(errp, "%s: '%s': %s", where, value, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return config_fail(errp, "%s: '%s' is not a directory", where, value);
	cfg->factfile_roots = xgrow_by_one(cfg->factfile_roots, cfg->n_factfile_roots,
					   sizeof(*cfg->factfile_roots));
	cfg->factfile_roots[cfg->n_factfile_roots++] = xstrdup(resolved);
	return 0;
}

/* A user or group name as useradd takes it (no ':' and nothing a passwd line could not hold). */
static int config_is_account(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32 || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-$", s[i]) == NULL)
			return 0;
	return 1;
}

/* USER or USER:GROUP; whether they exist is the worker's check (runas.h). */
static int config_check_run_as(const char *value, const char *where, char **errp)
{
	const char *colon = strchr(value, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - value) : strlen(value);

	if (!config_is_account(value, ulen) ||
	    (colon != NULL && !config_is_account(colon + 1, strlen(colon + 1))))
		return config_fail(errp, "%s: '%s' is not USER or USER:GROUP", where, value);
	return 0;
}

/* Absolute directories separated by ':'; an empty or relative entry would make the task's
 * working directory part of PATH. */
static int config_check_run_path(const char *value, const char *where, char **errp)
{
	const char *p = value;

	for (;;) {
		if (*p != '/')
			return config_fail(errp,
					   "%s: '%s' has an entry that is not an absolute path",
					   where, value);
		p = strchr(p, ':');
		if (p == NULL)
			return 0;
		p++;
	}
}

/* The names the server sets itself (runenv.h) cannot be passed. */
static int config_add_pass_env(struct config *cfg, const char *value, const char *where,
			       char **errp)
{
	static const char *const fixed[] = { "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL" };
	size_t i;

	if (!isalpha((unsigned char)value[0]) && value[0] != '_')
		goto bad;
	for (i = 0; value[i] != '\0'; i++)
		if (!isalnum((unsigned char)value[i]) && value[i] != '_')
			goto bad;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(value, fixed[i]) == 0)
			return config_fail(errp,
					   "%s: '%s' is set by the server, it cannot be passed",
					   where, value);
	cfg->pass_env = xgrow_by_one(cfg->pass_env, cfg->n_pass_env, sizeof(*cfg->pass_env));
	cfg->pass_env[cfg->n_pass_env++] = xstrdup(value);
	return 0;
bad:
	return config_fail(errp, "%s: '%s' is not an environment variable name", where, value);
}

/* A number of bytes, with an optional K, M or G (powers of 1024); 0 means no limit. */
static int config_parse_bytes(const char *value, long long *out, const char *where, char **errp)
{
	const char *p = value;
	long long n = 0, unit = 1;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - 9) / 10)
			goto bad;
		n = n * 10 + (*p - '0');
	}
	if (p != value && (*p == 'K' || *p == 'k'))
		unit = 1024LL;
	else if (p != value && (*p == 'M' || *p == 'm'))
		unit = 1024LL * 1024;
	else if (p != value && (*p == 'G' || *p == 'g'))
		unit = 1024LL * 1024 * 1024;
	else if (p == value || *p != '\0')
		goto bad;
	if (unit != 1 && *++p != '\0')
		goto bad;
	if (n > LLONG_MAX / unit)
		return config_fail(errp, "%s: '%s' is too large", where, value);
	*out = n * unit;
	return 0;
bad:
	return config_fail(errp, "%s: '%s' is not a number of bytes (N, NK, NM or NG)", where,
			   value);
}

/* A duration in seconds: digits and one unit, s, m, h or d ("90s", "12h", "30d"). */
static int config_parse_duration(const char *value, long long *out, const char *where, char **errp)
{
	const char *p = value;
	long long n = 0, unit;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - 9) / 10)
			return config_fail(errp, "%s: '%s' is too large", where, value);
		n = n * 10 + (*p - '0');
	}
	switch (p != value && *p != '\0' && p[1] == '\0' ? *p : '\0') {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return config_fail(errp, "%s: '%s' is not a duration (Ns, Nm, Nh or Nd)", where,
				   value);
	}
	/* kept in milliseconds by its users */
	if (n > LLONG_MAX / 1000 / unit)
		return config_fail(errp, "%s: '%s' is too large", where, value);
	*out = n * unit;
	return 0;
}

/* A-B: two uids, 1 <= A <= B, neither (uid_t)-1. */
static int config_set_uid_range(struct config *cfg, const char *value, const char *where,
				char **errp)
{
	unsigned long long v[2] = { 0, 0 };
	const char *p = value;
	int i;

	for (i = 0; i < 2; i++) {
		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++)
			if ((v[i] = v[i] * 10 + (unsigned long long)(*p - '0')) > 4294967294ULL)
				goto bad;
		if (*p++ != (i == 0 ? '-' : '\0'))
			goto bad;
	}
	if (v[0] == 0 || v[0] > v[1])
		goto bad;
	cfg->run_uid_first = (unsigned int)v[0];
	cfg->run_uid_last = (unsigned int)v[1];
	return 0;
bad:
	return config_fail(errp, "%s: '%s' is not a range of uids A-B (1 <= A <= B < 4294967295)",
			   where, value);
}

/* Requests per second: N, or nginx's own spelling Nr/s. */
static int config_parse_rate(const char *value, long long min, long long max, int *out,
			     const char *where, char **errp)
{
	size_t len = strlen(value);
	char *num;
	int rc;

	if (len > 3 && strcmp(value + len - 3, "r/s") == 0)
		len -= 3;
	num = xstrndup(value, len);
	if (num[strspn(num, "0123456789")] != '\0')
		rc = config_fail(errp, "%s: '%s' is not a rate (N or Nr/s, requests per second)",
				 where, value);
	else
		rc = config_parse_int(num, min, max, out, where, errp);
	free(num);
	return rc;
}

/* Checks value and stores it in cfg (value is never NULL; for a flag it is "true" or "false"). */
static int config_set(struct config *cfg, const struct config_option *opt, const char *value,
		      const char *where, char **errp)
{
	void *field = (char *)cfg + opt->offset;
	size_t i;

	switch (opt->kind) {
	case KIND_STRING:
		if (opt->check != NULL && opt->check(value, where, errp) != 0)
			return FS_EINVAL;
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case KIND_INT:
		return config_parse_int(value, opt->min, opt->max, field, where, errp);
	case KIND_FLAG:
	case KIND_BOOL:
		return config_parse_flag(value, field, where, errp);
	case KIND_LOG_LEVEL:
		for (i = 0; i < sizeof(config_level_names) / sizeof(config_level_names[0]); i++) {
			if (strcasecmp(value, config_level_names[i]) == 0) {
				cfg->log_level = (enum config_log_level)i;
				return 0;
			}
		}
		return config_fail_level(errp, value, where);
	case KIND_SYNC:
		if (strcasecmp(value, "full") == 0)
			cfg->spool_sync = CONFIG_SYNC_FULL;
		else if (strcasecmp(value, "normal") == 0)
			cfg->spool_sync = CONFIG_SYNC_NORMAL;
		else
			return config_fail(errp, "%s: unknown mode '%s' (expected full or normal)",
					   where, value);
		return 0;
	case KIND_ROOT:
		return config_add_root(cfg, value, where, errp);
	case KIND_FCGI:
		return config_set_fcgi(cfg, value, where, errp);
	case KIND_CONFIG:
		free(cfg->config_file);
		cfg->config_file = xstrdup(value);
		return 0;
	case KIND_PASS_ENV:
		return config_add_pass_env(cfg, value, where, errp);
	case KIND_BYTES:
		return config_parse_bytes(value, field, where, errp);
	case KIND_UID_RANGE:
		return config_set_uid_range(cfg, value, where, errp);
	case KIND_DURATION:
		return config_parse_duration(value, field, where, errp);
	case KIND_RATE:
		return config_parse_rate(value, opt->min, opt->max, field, where, errp);
	case KIND_TEMPLATE_VALUES:
		if (strcasecmp(value, "strict") == 0)
			cfg->template_values = CONFIG_TEMPLATE_STRICT;
		else if (strcasecmp(value, "factotum") == 0)
			cfg->template_values = CONFIG_TEMPLATE_FACTOTUM;
		else
			return config_fail(errp,
					   "%s: unknown mode '%s' (expected strict or factotum)",
					   where, value);
		return 0;
	}
	return config_fail(errp, "%s: internal error: unknown option kind", where);
}

static const struct config_option *config_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < CONFIG_NOPTS; i++)
		if (strlen(config_options[i].name) == len &&
		    memcmp(config_options[i].name, name, len) == 0)
			return &config_options[i];
	return NULL;
}

/* ---- the two sources ---- */

/* argv[1..argc) into cfg; seen[i] is set for each option config_options[i] given. Returns 0,
 * FS_EINVAL (a bad value) or CONFIG_BAD_USAGE (a malformed command line). */
static int config_parse_args(struct config *cfg, int argc, char *const argv[], int seen[],
			     char **errp)
{
	const struct config_option *opt;
	const char *arg, *eq, *value;
	char *where = NULL;
	size_t idx;
	int i, rc = FS_EINVAL;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			rc = config_fail_usage(errp, "unexpected argument '%s'", arg);
			goto done;
		}
		eq = strchr(arg + 2, '=');
		opt = config_lookup(arg + 2, eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2));
		if (opt == NULL) {
			rc = config_fail_usage(errp, "unknown option '%.*s'",
					       eq != NULL ? (int)(eq - arg) : (int)strlen(arg),
					       arg);
			goto done;
		}
		idx = (size_t)(opt - config_options);
		free(where);
		where = xasprintf("--%s", opt->name);
		if (seen[idx] && opt->kind != KIND_ROOT && opt->kind != KIND_PASS_ENV) {
			config_fail(errp, "%s: given more than once", where);
			goto done;
		}
		seen[idx] = 1;
		if (opt->kind == KIND_FLAG) {
			if (eq != NULL) {
				config_fail(errp, "%s: takes no value", where);
				goto done;
			}
			value = "true";
		} else if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
			value = argv[++i];
		} else {
			value = "";
		}
		if (*value == '\0') {
			rc = config_fail_usage(errp, "%s: missing value", where);
			goto done;
		}
		if (config_set(cfg, opt, value, where, errp) != 0)
			goto done;
	}
	rc = 0;
done:
	free(where);
	return rc;
}

/* One line of the file (NUL-terminated, no newline); line_of[i] holds the line where option i
 * was first given in this file. */
static int config_parse_line(struct config *cfg, const char *path, int lineno, char *line,
			     const int cmd_seen[], int line_of[], char **errp)
{
	const struct config_option *opt;
	char *name, *value = NULL, *eq, *end, *where = NULL;
	size_t idx;
	int rc = FS_EINVAL;

	name = line;
	while (isspace((unsigned char)*name))
		name++;
	if (*name == '\0' || *name == '#')
		return 0;
	eq = strchr(name, '=');
	if (eq != NULL) {
		value = eq + 1;
		while (isspace((unsigned char)*value))
			value++;
		end = value + strlen(value);
		while (end > value && isspace((unsigned char)end[-1]))
			end--;
		*end = '\0';
		*eq = '\0';
	}
	end = name + strlen(name);
	while (end > name && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (!isalpha((unsigned char)*name) ||
	    name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] != '\0') {
		config_fail(errp, "%s:%d: malformed line (expected 'name = value')", path, lineno);
		goto done;
	}
	opt = config_lookup(name, strlen(name));
	if (opt == NULL) {
		config_fail(errp, "%s:%d: unknown option '%s'", path, lineno, name);
		goto done;
	}
	idx = (size_t)(opt - config_options);
	where = xasprintf("%s:%d: %s", path, lineno, opt->name);
	if (opt->kind == KIND_CONFIG) {
		config_fail(errp, "%s: not allowed in a config file", where);
		goto done;
	}
	if (line_of[idx] != 0 && opt->kind != KIND_ROOT && opt->kind != KIND_PASS_ENV) {
		config_fail(errp, "%s: given more than once (first on line %d)", where,
			    line_of[idx]);
		goto done;
	}
	if (line_of[idx] == 0)
		line_of[idx] = lineno;
	if (value == NULL && opt->kind == KIND_FLAG)
		value = "true";
	if (value == NULL || *value == '\0') {
		config_fail(errp, "%s: missing value", where);
		goto done;
	}
	if (cmd_seen[idx]) {
		rc = 0; /* the command line wins; the file's value is not even checked */
		goto done;
	}
	rc = config_set(cfg, opt, value, where, errp);
done:
	free(where);
	return rc;
}

/* line_of[i] is set to the line where option i is first given in the file (0: not given). */
static int config_parse_file(struct config *cfg, const char *path, const int cmd_seen[],
			     int line_of[], char **errp)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = FS_EINVAL;

	f = fopen(path, "r");
	if (f == NULL)
		return config_fail(errp, "--config: cannot read '%s': %s", path, strerror(errno));
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strlen(line) != (size_t)len) {
			config_fail(errp, "%s:%d: malformed line (contains a NUL byte)", path,
				    lineno);
			goto done;
		}
		if (config_parse_line(cfg, path, lineno, line, cmd_seen, line_of, errp) != 0)
			goto done;
		errno = 0;
	}
	if (ferror(f)) {
		config_fail(errp, "--config: cannot read '%s': %s", path,
			    strerror(errno != 0 ? errno : EIO));
		goto done;
	}
	rc = 0;
done:
	free(line);
	fclose(f);
	return rc;
}

/* ---- the launcher's nginx: authentication and TLS ---- */

/* A file the launcher writes into nginx's configuration, in double quotes: nginx would take
 * '"' and '\' as quoting and '$' as a variable, and resolve a relative path against its own
 * prefix rather than where the option was given. */
static int config_check_nginx_file(const char *value, const char *where, char **errp)
{
	const unsigned char *p;

	if (value[0] != '/')
		return config_fail(errp, "%s: '%s' is not an absolute path", where, value);
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || *p == '$' || *p < 0x20 || *p == 0x7f)
			return config_fail(errp,
					   "%s: '%s' holds a character nginx cannot take "
					   "('\"', '\\', '$' or a control character)",
					   where, value);
	return 0;
}

/* A certificate without its key (or the reverse) is a half-configured HTTPS. */
static int config_check_tls(const struct config *cfg, char **errp)
{
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		return config_fail(errp, "%s: needs %s too (HTTPS takes both)",
				   cfg->tls_cert != NULL ? "--tls-cert" : "--tls-key",
				   cfg->tls_cert != NULL ? "--tls-key" : "--tls-cert");
	return 0;
}

/* ---- client webhooks (core/argpolicy.h) ---- */

static int config_check_client_webhooks(const char *value, const char *where, char **errp)
{
	if (strcmp(value, "deny") != 0 && strcmp(value, "hosts") != 0 && strcmp(value, "any") != 0)
		return config_fail(errp, "%s: '%s' is not deny, hosts or any", where, value);
	return 0;
}

static int config_check_webhook_hosts(const char *value, const char *where, char **errp)
{
	char *why = NULL;

	if (argpolicy_hosts_check(value, &why) != 0) {
		config_fail(errp, "%s: %s", where, why);
		free(why);
		return FS_EINVAL;
	}
	return 0;
}

/* Whether path is the bundled runner, which takes --webhook more than once: the file holds the
 * user agent its webhooks send. A file that cannot be read counts as another runner. */
static int config_is_bundled_runner(const char *path)
{
	static const char mark[] = CONFIG_RUNNER_AGENT;
	char buf[65536 + sizeof(mark)];
	size_t keep = 0, n;
	int found = 0;
	FILE *f = fopen(path, "rbe");

	if (f == NULL)
		return 0;
	/* each read keeps the previous block's last bytes, so a mark across blocks is seen */
	while (!found && (n = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
		n += keep;
		for (size_t i = 0; !found && i + sizeof(mark) - 1 <= n; i++)
			found = buf[i] == mark[0] && memcmp(buf + i, mark, sizeof(mark) - 1) == 0;
		keep = n < sizeof(mark) ? n : sizeof(mark);
		memmove(buf, buf + n - keep, keep);
	}
	fclose(f);
	return found;
}

/* Derived values and the check of a default factotum-bin, once both sources are in. ip_port_opt
 * as consulconf_resolve takes it. */
static int config_finish(struct config *cfg, int bin_given, const char *ip_port_opt, char **errp)
{
	size_t len = strlen(cfg->spool);

	if (config_check_tls(cfg, errp) != 0)
		return FS_EINVAL;

	while (len > 1 && cfg->spool[len - 1] == '/')
		cfg->spool[--len] = '\0';
	if (cfg->fcgi_socket == NULL) {
		cfg->fcgi_socket = xasprintf("%s/fcgi.sock", len > 1 ? cfg->spool : "");
		cfg->fcgi_socket_default = 1;
		if (strlen(cfg->fcgi_socket) > CONFIG_UNIX_PATH_MAX)
			return config_fail(errp,
					   "--fcgi-socket: the default '%s' is too long for a "
					   "unix socket path (maximum %zu bytes)",
					   cfg->fcgi_socket, CONFIG_UNIX_PATH_MAX);
	}
	if (cfg->run_root == NULL) {
		cfg->run_root = xasprintf("%s/runs", len > 1 ? cfg->spool : "");
	} else {
		len = strlen(cfg->run_root);
		while (len > 1 && cfg->run_root[len - 1] == '/')
			cfg->run_root[--len] = '\0';
	}
	if (!bin_given && config_check_executable(cfg->factotum_bin, "the bundled runner: ",
						  "--factotum-bin", errp) != 0)
		return FS_EINVAL;
	if (strcmp(cfg->client_webhooks, "hosts") == 0 && cfg->client_webhook_hosts == NULL)
		return config_fail(errp, "--client-webhooks: hosts needs --client-webhook-hosts");
	cfg->bundled_runner = config_is_bundled_runner(cfg->factotum_bin);
	return consulconf_resolve(cfg, ip_port_opt, errp);
}

/* ---- public ---- */

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->factotum_bin = xstrdup(CONFIG_DEFAULT_FACTOTUM_BIN);
	cfg->ip = xstrdup("0.0.0.0");
	cfg->port = 3000;
	cfg->log_level = CONFIG_LOG_WARN;
	cfg->max_jobs = 1000;
	cfg->max_schedules = CONFIG_DEFAULT_MAX_SCHEDULES;
	cfg->max_workers = 20;
	cfg->consul_name = xstrdup("factotum");
	cfg->consul_ip = xstrdup("127.0.0.1");
	cfg->consul_port = 8500;
	cfg->consul_namespace = xstrdup("com.snowplowanalytics/factotum");
	cfg->max_stdouterr_size = 10000;
	cfg->spool = xstrdup(CONFIG_DEFAULT_SPOOL);
	cfg->fcgi_threads = CONFIG_DEFAULT_FCGI_THREADS;
	cfg->job_timeout = 0;
	cfg->log_max_bytes = CONFIG_DEFAULT_LOG_MAX_BYTES;
	cfg->spool_sync = CONFIG_SYNC_FULL;
	cfg->user = xstrdup(CONFIG_DEFAULT_USER);
	cfg->run_as = xstrdup(CONFIG_DEFAULT_RUN_AS);
	cfg->run_path = xstrdup(CONFIG_DEFAULT_RUN_PATH);
	cfg->limit_req = CONFIG_DEFAULT_LIMIT_REQ;
	cfg->limit_conn = CONFIG_DEFAULT_LIMIT_CONN;
	cfg->template_values = CONFIG_TEMPLATE_STRICT;
	cfg->client_webhooks = xstrdup("deny");
	cfg->max_tasks = CONFIG_DEFAULT_MAX_TASKS;
	cfg->min_free_space = CONFIG_DEFAULT_MIN_FREE;
	cfg->retain_done = CONFIG_DEFAULT_RETAIN_DONE;
	cfg->retain_consul = -1;
	cfg->consul_ssl_verify = -1;
}

int config_parse(struct config *cfg, int argc, char *const argv[], char **errp)
{
	int seen[CONFIG_NOPTS] = { 0 }, line_of[CONFIG_NOPTS] = { 0 };
	const struct config_option *bin = config_lookup("factotum-bin", strlen("factotum-bin"));
	const struct config_option *cfgopt = config_lookup("config", strlen("config"));
	const struct config_option *cip = config_lookup("consul-ip", strlen("consul-ip"));
	const struct config_option *cport = config_lookup("consul-port", strlen("consul-port"));
	const char *ip_port_opt = NULL;
	int i, bin_given, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return CONFIG_HELP;
		if (strcmp(argv[i], "--version") == 0)
			return CONFIG_VERSION;
	}
	if ((rc = config_parse_args(cfg, argc, argv, seen, errp)) != 0)
		return rc;
	if (seen[cfgopt - config_options] &&
	    config_parse_file(cfg, cfg->config_file, seen, line_of, errp) != 0)
		return FS_EINVAL;
	/* a given factotum-bin was checked when it was set; the default is checked at the end */
	bin_given = seen[bin - config_options] || line_of[bin - config_options];
	if (seen[cport - config_options] || line_of[cport - config_options])
		ip_port_opt = "--consul-port";
	if (seen[cip - config_options] || line_of[cip - config_options])
		ip_port_opt = "--consul-ip";
	return config_finish(cfg, bin_given, ip_port_opt, errp);
}

void config_free(struct config *cfg)
{
	size_t i;

	free(cfg->config_file);
	free(cfg->factotum_bin);
	free(cfg->ip);
	free(cfg->webhook);
	free(cfg->consul_name);
	free(cfg->consul_ip);
	free(cfg->consul_namespace);
	free(cfg->spool);
	free(cfg->fcgi_socket);
	free(cfg->fcgi_host);
	for (i = 0; i < cfg->n_factfile_roots; i++)
		free(cfg->factfile_roots[i]);
	free(cfg->factfile_roots);
	free(cfg->consul_token);
	free(cfg->htpasswd);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->user);
	free(cfg->fcgi_socket_group);
	free(cfg->run_as);
	free(cfg->run_path);
	for (i = 0; i < cfg->n_pass_env; i++)
		free(cfg->pass_env[i]);
	free(cfg->pass_env);
	free(cfg->client_webhooks);
	free(cfg->client_webhook_hosts);
	free(cfg->run_root);
	free(cfg->consul_addr);
	free(cfg->consul_cacert);
	free(cfg->consul_capath);
	free(cfg->consul_client_cert);
	free(cfg->consul_client_key);
	free(cfg->consul_tls_server_name);
	free(cfg->consul_token_file);
	free(cfg->consul_url);
	free(cfg->consul_address);
	free(cfg->consul_socket);
	free(cfg->consul_connect_to);
	memset(cfg, 0, sizeof(*cfg));
}

const char *config_log_level_name(enum config_log_level level)
{
	if ((size_t)level >= sizeof(config_level_names) / sizeof(config_level_names[0]))
		return "unknown";
	return config_level_names[level];
}

/* The option summary of every option, in the table's order: a line "  --name..." per option,
 * continued on lines starting with more blanks. config_usage picks a program's lines from it. */
static const char *config_usage_text(void)
{
	return "Options (also as 'name = value' lines in the --config file; the command line wins):\n"
	       "  --config=FILE                read options from FILE\n"
	       "  --factotum-bin=PATH          Factotum runner [" CONFIG_DEFAULT_FACTOTUM_BIN "]\n"
	       "  --ip=ADDRESS                 HTTP listen address, IPv4 or IPv6 [0.0.0.0]\n"
	       "  --port=N                     HTTP listen port [3000]\n"
	       "  --log-level=LEVEL            off, error, warn, info, debug or trace [warn]\n"
	       "  --max-jobs=N                 bound on queued jobs of this node [1000]\n"
	       "  --max-workers=N              concurrent runners of this node [20]\n"
	       "  --webhook=URL                passed to Factotum as --webhook [none]\n"
	       "  --no-colour                  passed to Factotum\n"
	       "  --consul-name=NAME           this node's name [factotum]\n"
	       "  --consul-ip=HOST             Consul agent address or host name [127.0.0.1]\n"
	       "  --consul-port=N              Consul agent port [8500]\n"
	       "  --consul-namespace=NS        Consul key prefix [com.snowplowanalytics/factotum]\n"
	       "  --max-stdouterr-size=N       passed to Factotum with the webhook [10000]\n"
	       "  --spool=DIR                  the node's data directory [" CONFIG_DEFAULT_SPOOL
	       "]\n"
	       "  --fcgi-socket=PATH|HOST:PORT where the responder listens [SPOOL/fcgi.sock;\n"
	       "                               as root /run/factotum-server/HASH.sock]\n"
	       "  --fcgi-threads=N             responder threads (1..1024) [32]\n"
	       "  --factfile-root=DIR          allowed factfile directory (repeatable) [any]\n"
	       "  --job-timeout=SECONDS        run time limit, 0 for none [0]\n"
	       "  --log-max-bytes=N            cap of a run's captured output, head and tail kept\n"
	       "                               (minimum 1024) [1048576]\n"
	       "  --spool-sync=full|normal     SQLite synchronous mode [full]\n"
	       "  --no-consul                  single-node mode, the spool is the only store\n"
	       "  --htpasswd=FILE              the launcher's nginx: basic authentication on every\n"
	       "                               endpoint (else only 127.0.0.1 and ::1 are admitted)\n"
	       "  --trust-network              the launcher's nginx: admit every client without\n"
	       "                               authentication (the network is trusted)\n"
	       "  --tls-cert=FILE              the launcher's nginx: HTTPS with this certificate\n"
	       "  --tls-key=FILE               and this key (both or neither)\n"
	       "  --user=NAME                  the service user a program started as root\n"
	       "                               becomes [" CONFIG_DEFAULT_USER "]\n"
	       "  --allow-root                 started as root, stay root (no service user)\n"
	       "  --fcgi-socket-group=GROUP    group of the responder's socket (mode 0660)\n"
	       "                               [www-data where it exists]\n"
	       "  --run-as=USER[:GROUP]        the runner's user (when the worker may switch)\n"
	       "                               [" CONFIG_DEFAULT_RUN_AS "]\n"
	       "  --allow-shared-user          --run-as may name the worker's own user\n"
	       "  --allow-root-runs            --run-as may name root\n"
	       "  --run-path=DIRS              PATH of the runner and its tasks\n"
	       "                               [" CONFIG_DEFAULT_RUN_PATH "]\n"
	       "  --pass-env=NAME              pass NAME from the worker's environment to runs\n"
	       "                               (repeatable) [none]\n"
	       "  --run-max-processes=N        RLIMIT_NPROC of a run, 0 for none [0]\n"
	       "  --run-max-memory=BYTES       RLIMIT_AS of a run (K, M, G), 0 for none [0]\n"
	       "  --run-max-open-files=N       RLIMIT_NOFILE of a run, 0 for none [0]\n"
	       "  --run-uid-range=A-B          each run its own uid from A..B [the run user's]\n"
	       "  --limit-req=RATE             the launcher's nginx: requests per second from one\n"
	       "                               client address (N or Nr/s, burst 2N), 0 for none\n"
	       "                               [100]\n"
	       "  --limit-conn=N               the launcher's nginx: requests in progress from one\n"
	       "                               client address (0..65535), 0 for none [64]\n"
	       "  --template-values=MODE       what /submit accepts of tag and env values in a\n"
	       "                               task's command line: strict (only data to sh) or\n"
	       "                               factotum (anything, as Factotum) [strict]\n"
	       "  --client-webhooks=MODE       a request's --webhook: deny, hosts (those of\n"
	       "                               --client-webhook-hosts) or any [deny]\n"
	       "  --client-webhook-hosts=LIST  HOST[:PORT],... a request's webhook may reach\n"
	       "                               (HOST alone: the scheme's default port) [none]\n"
	       "  --max-tasks=N                most tasks of a submitted factfile [10000]\n"
	       "  --max-queued-per-user=N      bound on the queued jobs of one authenticated user,\n"
	       "                               0 for none [0]\n"
	       "  --run-root=DIR               where run directories are made [SPOOL/runs]\n"
	       "  --min-free-space=BYTES       free space the spool's and run root's filesystems\n"
	       "                               keep: below it /submit answers 507 (K, M, G),\n"
	       "                               0 for no check [64M]\n"
	       "  --retain-done=DURATION       how long a finished job is kept after its last\n"
	       "                               finish (Ns, Nm, Nh or Nd) [30d]\n"
	       "  --retain-max-done=N          the most finished jobs kept, 0 for no bound [0]\n"
	       "  --keep-run-dirs              keep a finished run's working directory until the\n"
	       "                               job is pruned\n"
	       "  --retain-consul=DURATION     how long this node's DONE Consul entries are kept\n"
	       "                               after their finish [the --retain-done value]\n"
	       "  --consul-addr=ADDRESS        Consul's address: HOST:PORT, http://HOST:PORT,\n"
	       "                               https://HOST:PORT or unix:///PATH (not with\n"
	       "                               --consul-ip or --consul-port) [CONSUL_HTTP_ADDR]\n"
	       "  --consul-cacert=FILE         CA certificate(s) that check Consul's HTTPS\n"
	       "                               [CONSUL_CACERT; the system's]\n"
	       "  --consul-capath=DIR          directory of CA certificates [CONSUL_CAPATH]\n"
	       "  --consul-client-cert=FILE    client certificate for Consul's HTTPS\n"
	       "                               [CONSUL_CLIENT_CERT]\n"
	       "  --consul-client-key=FILE     its key [CONSUL_CLIENT_KEY]\n"
	       "  --consul-tls-server-name=NAME  the name Consul's certificate must hold\n"
	       "                               [CONSUL_TLS_SERVER_NAME; the address's host]\n"
	       "  --consul-ssl-verify=BOOL     check Consul's certificate, true or false\n"
	       "                               [CONSUL_HTTP_SSL_VERIFY; true]\n"
	       "  --consul-token-file=FILE     the Consul ACL token, read from FILE\n"
	       "                               [CONSUL_HTTP_TOKEN_FILE, then CONSUL_HTTP_TOKEN]\n"
	       "  --max-schedules=N            the most schedules of this node, or of the cluster's\n"
	       "                               namespace with Consul (1..100000) [1000]\n"
	       "  --help, --version\n"
	       "Environment: CONSUL_HTTP_ADDR, CONSUL_HTTP_SSL, CONSUL_HTTP_SSL_VERIFY, CONSUL_CACERT,\n"
	       "CONSUL_CAPATH, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME,\n"
	       "CONSUL_HTTP_TOKEN_FILE and CONSUL_HTTP_TOKEN, as Consul's own tools read them.\n";
}

/* The options that only one program uses, besides the launcher, which passes every option on
 * (what each uses is in its manual page); the other options are used by all three. */
static const char config_launcher_only[] =
	"ip port htpasswd trust-network tls-cert tls-key limit-req limit-conn";
static const char config_fcgi_only[] =
	"max-jobs fcgi-socket fcgi-threads factfile-root fcgi-socket-group template-values "
	"client-webhooks client-webhook-hosts max-tasks max-queued-per-user";
static const char config_worker_only[] =
	"no-colour job-timeout log-max-bytes run-as allow-shared-user allow-root-runs run-path "
	"pass-env run-max-processes run-max-memory run-max-open-files run-uid-range retain-done "
	"retain-max-done keep-run-dirs retain-consul";

/* Whether the blank-separated words of list hold the len bytes of name. */
static int config_in_list(const char *list, const char *name, size_t len)
{
	const char *p = list;
	size_t n;

	for (;;) {
		n = strcspn(p, " ");
		if (n == len && memcmp(p, name, len) == 0)
			return 1;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

/* Whether prog's --help lists the option the usage line names (--help and --version: all). */
static int config_usage_lists(const char *line, enum config_program prog)
{
	const char *name = line + 4; /* after "  --" */
	size_t len = strcspn(name, "=, \n");

	if (prog == CONFIG_PROG_LAUNCHER)
		return 1;
	if (config_in_list(config_launcher_only, name, len))
		return 0;
	return !config_in_list(prog == CONFIG_PROG_FCGI ? config_worker_only : config_fcgi_only,
			       name, len);
}

char *config_usage(enum config_program prog)
{
	const char *line, *end;
	struct buf out;
	int keep = 1;

	buf_init(&out);
	for (line = config_usage_text(); *line != '\0'; line = end) {
		end = strchr(line, '\n') + 1; /* the text ends with '\n' */
		/* "  --name": an option's first line; more blanks: its continuation */
		if (strncmp(line, "  --", 4) == 0)
			keep = config_usage_lists(line, prog);
		else if (strncmp(line, "   ", 3) != 0)
			keep = 1;
		if (keep)
			buf_append(&out, line, (size_t)(end - line));
	}
	return buf_steal(&out);
}
