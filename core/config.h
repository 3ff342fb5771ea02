/* SPDX-License-Identifier: Apache-2.0 */
/* The options every program takes (factotum-server(1) lists them): defaults, the command line,
 * the config file, and the checks that make a bad value one clear line instead of a surprise at
 * run time.
 *
 * Sources, in order of strength: the command line, then the file named by --config, then the
 * defaults. The command line wins regardless of where --config appears on it; a file value for an
 * option also given on the command line is ignored without being checked (its line must still be
 * well-formed, name a known option, have a value and not repeat).
 *
 * Command line: `--name=value` or `--name value` (in the second form a next argument starting
 * with "--" is not taken as the value: the value is missing). Flags (--no-colour, --no-consul)
 * take no value. --help / -h and --version anywhere win over everything else.
 *
 * Config file: one `name = value` per line, names without the leading "--"; surrounding blanks are
 * trimmed; a line whose first non-blank character is '#' is a comment (no trailing comments: '#'
 * is data in a value, as in a webhook URL); blank lines are skipped. A flag is written bare
 * (`no-consul`) or as `no-consul = true|false` (any case). `config` cannot appear in a file.
 *
 * Repeats: a single-valued option given twice on the command line, or twice in the file, is an
 * error (conflicting values are a mistake, not a preference). --factfile-root and --pass-env are
 * repeatable; any of them on the command line replaces the file's list.
 *
 * Consul's own CONSUL_* environment variables are read as its tools read them (core/consulconf.h);
 * an option of the same meaning wins over its variable. */
#ifndef FS_CONFIG_H
#define FS_CONFIG_H

#include <stddef.h>

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/local/libexec/factotum-server"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/usr/local/var"
#endif

#define CONFIG_DEFAULT_FACTOTUM_BIN  PKGLIBEXECDIR "/factotum"
#define CONFIG_DEFAULT_SPOOL         LOCALSTATEDIR "/lib/factotum-server"
/* Responder threads: each holds one FastCGI connection at a time, and with nginx's
 * fastcgi_keep_conn an idle kept-alive connection pins its thread, so the default leaves room
 * for nginx's keepalive connections plus the requests in flight. */
#define CONFIG_DEFAULT_FCGI_THREADS  32
#define CONFIG_MAX_FCGI_THREADS      1024
/* A run's captured stdout/stderr (<spool>/logs/<id>.log) keeps its first and last halves up to
 * this size; the floor leaves room for both halves and the marker between them. */
#define CONFIG_DEFAULT_LOG_MAX_BYTES (1024 * 1024)
#define CONFIG_MIN_LOG_MAX_BYTES     1024
#define CONFIG_DEFAULT_USER          "factotum-server"
#define CONFIG_DEFAULT_RUN_AS        "factotum-run"
#define CONFIG_DEFAULT_RUN_PATH      "/usr/local/bin:/usr/bin:/bin"
/* The launcher's nginx, per client address: requests per second (burst twice that) and
 * requests in progress. nginx takes at most 65535 connections in limit_conn. */
#define CONFIG_DEFAULT_LIMIT_REQ     100
#define CONFIG_MAX_LIMIT_REQ         1000000
#define CONFIG_DEFAULT_LIMIT_CONN    64
#define CONFIG_MAX_LIMIT_CONN        65535
/* The User-Agent of the bundled runner's webhooks, also how config_parse recognises its binary. */
#define CONFIG_RUNNER_AGENT          "factotum-server-runner/"
/* The most tasks a submitted factfile may have (--max-tasks). */
#define CONFIG_DEFAULT_MAX_TASKS     10000
/* --min-free-space: well above the spool's reserve (core/spoolreserve.h), so that new submits
 * are refused long before the work already accepted needs it. */
#define CONFIG_DEFAULT_MIN_FREE      (64LL * 1024 * 1024)
/* --max-schedules: its default and its largest value. */
#define CONFIG_DEFAULT_MAX_SCHEDULES 1000
#define CONFIG_MAX_SCHEDULES         100000

/* How long a finished job is kept (--retain-done), in seconds: 30 days. */
#define CONFIG_DEFAULT_RETAIN_DONE (30LL * 86400)

/* Ordered: a message at level L is logged when L <= the configured level (OFF logs nothing). */
enum config_log_level {
	CONFIG_LOG_OFF = 0,
	CONFIG_LOG_ERROR,
	CONFIG_LOG_WARN,
	CONFIG_LOG_INFO,
	CONFIG_LOG_DEBUG,
	CONFIG_LOG_TRACE,
};

enum config_spool_sync {
	CONFIG_SYNC_FULL = 0, /* SQLite synchronous=FULL */
	CONFIG_SYNC_NORMAL,   /* SQLite synchronous=NORMAL */
};

/* --template-values: what /submit accepts from a submitter's --tag and --env values. */
enum config_template_values {
	CONFIG_TEMPLATE_STRICT = 0, /* only where sh reads them as data (core/tmplcheck.h) */
	CONFIG_TEMPLATE_FACTOTUM,   /* anything, as Factotum: trusts every submitter */
};

/* What config_parse returns besides 0 and FS_EINVAL: the program prints config_usage() or its
 * version to stdout and exits 0 (CONFIG_HELP, CONFIG_VERSION); or the command line is malformed
 * rather than a value bad (CONFIG_BAD_USAGE: *errp is set as for FS_EINVAL, and the program also
 * says how to get its usage). */
#define CONFIG_HELP      1
#define CONFIG_VERSION   2
#define CONFIG_BAD_USAGE 3

/* The server programs, as config_usage tells their options apart: each program's --help lists
 * the options it uses (every program accepts and checks them all, so that one file serves
 * every program). The launcher passes every option on. */
enum config_program {
	CONFIG_PROG_LAUNCHER = 1,
	CONFIG_PROG_FCGI = 2,
	CONFIG_PROG_WORKER = 4,
};

/* Every string is owned by the struct (config_free) and never NULL unless said so. */
struct config {
	char *config_file;  /* --config as given, or NULL */
	char *factotum_bin; /* a regular, executable file (checked by config_parse) */
	char *ip;           /* IPv4 or IPv6 literal, as given (no brackets) */
	int port;           /* 1..65535 */
	enum config_log_level log_level;
	int max_jobs;    /* >= 1 */
	int max_workers; /* >= 1 */
	char *webhook;   /* http(s) URL, or NULL for none */
	int no_colour;   /* 0 or 1 */
	char *consul_name;
	char *consul_ip;        /* IP literal (no brackets) or host name */
	int consul_port;        /* 1..65535 */
	char *consul_namespace; /* no leading/trailing '/', no empty segment */
	int max_stdouterr_size; /* >= 1 */
	char *spool;            /* absolute path, no trailing '/' (unless "/"); may not exist yet */
	/* --fcgi-socket: either an absolute unix socket path (fcgi_port == 0, fcgi_host NULL), or
	 * HOST:PORT (fcgi_host the host without brackets, fcgi_port 1..65535). fcgi_socket is the value
	 * as given, or "<spool>/fcgi.sock" by default. */
	char *fcgi_socket;
	char *fcgi_host;
	int fcgi_port;
	int fcgi_threads;        /* --fcgi-threads: responder threads, 1..1024 */
	char **factfile_roots;   /* realpaths of existing directories; NULL when none */
	size_t n_factfile_roots; /* 0 = any absolute factfilePath is allowed */
	int job_timeout;         /* seconds, 0 = none */
	int log_max_bytes;       /* --log-max-bytes: cap of a run's captured output, >= 1024 */
	enum config_spool_sync spool_sync;
	int no_consul;      /* 0 or 1 */
	char *consul_token; /* the ACL token (core/consulconf.h says from where), or NULL */
	/* Who may reach the launcher's nginx, and TLS (the other programs check and ignore them).
	 * Paths are absolute, without '"', '\' or '$' (nginx would read those as quoting or
	 * variables); the launcher checks that the files are readable. Without htpasswd and
	 * trust_network nginx admits only 127.0.0.1 and ::1 (protected mode). */
	char *htpasswd;    /* --htpasswd: basic authentication on every endpoint, or NULL */
	int trust_network; /* --trust-network: 0 or 1 */
	char *tls_cert;    /* --tls-cert and --tls-key: both NULL, or both set (HTTPS) */
	char *tls_key;
	/* The service user and the responder's socket (core/privdrop.h says what root does) */
	char *user;              /* --user: the service user's name [factotum-server] */
	int allow_root;          /* --allow-root: 0 or 1, started as root, stay root */
	char *fcgi_socket_group; /* --fcgi-socket-group: a group name, or NULL for the default */
	int fcgi_socket_default; /* 1 when fcgi_socket is the derived default, not given */
	/* What a run can do (worker/runas.h, worker/runenv.h). */
	char *run_as;          /* --run-as USER[:GROUP] as given (resolved by the worker) */
	int allow_shared_user; /* 0 or 1: --run-as may name the worker's own user */
	int allow_root_runs;   /* 0 or 1: --run-as may name root */
	char *run_path;        /* --run-path: PATH of the runner and its tasks */
	char **pass_env;       /* --pass-env names (repeatable), NULL when none */
	size_t n_pass_env;
	int run_max_processes;    /* RLIMIT_NPROC of the runner, 0 = not set */
	long long run_max_memory; /* RLIMIT_AS of the runner in bytes, 0 = not set */
	int run_max_open_files;   /* RLIMIT_NOFILE of the runner, 0 = not set */
	/* --run-uid-range A-B: each run its own uid in [first, last]; both 0 when not given */
	unsigned int run_uid_first, run_uid_last;
	/* Per-client limits of the launcher's nginx on complete requests (the other programs check
	 * and ignore them); over either, nginx answers 429. 0 disables each. */
	int limit_req;  /* --limit-req N or Nr/s: requests per second, burst 2N */
	int limit_conn; /* --limit-conn N: requests in progress at once */
	enum config_template_values template_values; /* --template-values [strict] */
	/* What a request's factfileArgs may ask (core/argpolicy.h) */
	char *client_webhooks;      /* --client-webhooks: "deny", "hosts" or "any" */
	char *client_webhook_hosts; /* --client-webhook-hosts as given, or NULL */
	int bundled_runner; /* derived: factotum_bin holds CONFIG_RUNNER_AGENT (takes --webhook
			     * more than once) */
	int max_tasks;      /* --max-tasks: most tasks a submitted factfile may have, >= 1 */
	/* --max-queued-per-user: QUEUED jobs one REMOTE_USER may have (jobs without a user share
	 * one bound), 0 = no bound */
	int max_queued_per_user;
	/* The disk (core/diskfree.h). run_root: --run-root, absolute, no trailing '/'; derived
	 * "<spool>/runs" when not given. min_free_space: --min-free-space in bytes, 0 = no check. */
	char *run_root;
	long long min_free_space;
	/* Retention of finished jobs (worker/prune.h) */
	long long retain_done; /* --retain-done: seconds after a job's last finish, >= 0 */
	int retain_max_done;   /* --retain-max-done: the most DONE jobs kept, 0 = no bound */
	int keep_run_dirs;     /* --keep-run-dirs: 0 or 1, run directories stay until pruned */
	/* --retain-consul: seconds after a job's last finish for its DONE Consul entry, -1 when
	 * not given (then retain_done) */
	long long retain_consul;
	/* How to reach Consul (core/consulconf.h): each from its option, else from the CONSUL_*
	 * variable of the same meaning, else the default. Files are checked readable at start. */
	char *consul_addr;            /* --consul-addr or CONSUL_HTTP_ADDR as given; NULL when the
				       * address is --consul-ip:--consul-port */
	char *consul_cacert;          /* --consul-cacert / CONSUL_CACERT, or NULL */
	char *consul_capath;          /* --consul-capath / CONSUL_CAPATH (a directory), or NULL */
	char *consul_client_cert;     /* --consul-client-cert / CONSUL_CLIENT_CERT, or NULL */
	char *consul_client_key;      /* --consul-client-key / CONSUL_CLIENT_KEY, or NULL */
	char *consul_tls_server_name; /* --consul-tls-server-name / CONSUL_TLS_SERVER_NAME, or
				       * NULL */
	int consul_ssl_verify;        /* --consul-ssl-verify / CONSUL_HTTP_SSL_VERIFY: 1 or 0 (-1
				       * until config_parse: not given) */
	char *consul_token_file;      /* --consul-token-file / CONSUL_HTTP_TOKEN_FILE, or NULL */
	/* Derived by config_parse (NULL with --no-consul): */
	char *consul_url;        /* the base of requests: "http[s]://HOST:PORT" (HOST is the TLS
				  * server name when one is set), "http://localhost" over a socket */
	char *consul_address;    /* the address for messages: "https://127.0.0.1:8501",
				  * "unix:///run/consul.sock" */
	char *consul_socket;     /* the unix socket of a unix:// address, or NULL */
	char *consul_connect_to; /* "NAME:PORT:HOST:PORT" (libcurl's CONNECT_TO) when the TLS
				  * server name differs from the address, or NULL */
	/* --max-schedules: the most schedules the node holds (no Consul) or the namespace (Consul);
	 * /schedules/set of a new name beyond it is refused */
	int max_schedules;
};

/* Fills *cfg with the defaults (fcgi_socket stays NULL until config_parse derives it from the
 * spool; consul_token stays NULL until config_parse reads the environment). Free with
 * config_free. Checks nothing. */
void config_init(struct config *cfg);

/* Parses argv[1..argc) (argv[0] is the program name) and the --config file into *cfg, which must
 * have been set up with config_init. Returns:
 *   0             cfg is complete and valid: every value checked, including that factotum-bin
 *                 (given or the bundled default) is an executable regular file;
 *   CONFIG_HELP / CONFIG_VERSION  --help / -h or --version was given (cfg holds the defaults);
 *   CONFIG_BAD_USAGE  on the command line an unknown option, an argument that is no option or
 *                 an option without its value: *errp as for FS_EINVAL ("unknown option
 *                 '--x'", "--port: missing value"); a flag with a value is a bad value;
 *   FS_EINVAL     *errp is one line naming the option and the problem ("--port: ..." or
 *                 "FILE:LINE: port: ..."); the program prints it and exits 2. The original
 *                 server's arguments carry its texts: "--factotum-bin: Invalid path for
 *                 Factotum binary at: '<path>' (<why>)", "--ip: Invalid IP address: [<ip>] -
 *                 Regex mismatch", and for --log-level two lines, "--log-level: Unknown log
 *                 level: '<level>'" and "Please select a valid log level.".
 * cfg must be freed with config_free whatever the result. *errp is new text the caller frees. */
int config_parse(struct config *cfg, int argc, char *const argv[], char **errp);

/* Frees every string of cfg; cfg may then be config_init'ed again. */
void config_free(struct config *cfg);

/* The option summary of prog's --help: the options prog uses, one per line with its
 * continuation lines, then the environment it reads; ends with '\n'. New text the caller
 * frees. */
char *config_usage(enum config_program prog);

/* Sets *errp to the formatted one-line message (control bytes shown as \xNN) and returns
 * FS_EINVAL: how every check of an option reports. */
int config_fail(char **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when s is an IP address (no brackets) or an RFC 1123 host name, else 0. */
int config_host_ok(const char *s);

/* "off", "error", ... for a level; static storage. */
const char *config_log_level_name(enum config_log_level level);

#endif
