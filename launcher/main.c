/* SPDX-License-Identifier: Apache-2.0 */
/* factotum-server: runs a whole node on one machine with Factotum Server's command line
 * (doc/compatibility.md). It writes an nginx configuration under <spool>/nginx, starts the
 * responder, the worker and nginx (and a Consul dev agent with --consul-dev), checks each is
 * ready, prints one line saying where it listens, and on SIGINT/SIGTERM/SIGHUP stops them all
 * and exits 0. If anything fails to start, or a child dies later, it stops the rest and exits 1
 * with one clear line; a bad option exits 2.
 *
 * Every option of core/config is passed unchanged to the responder and the worker, so the node
 * is configured in one place. Programs are found next to the launcher (the directory of
 * /proc/self/exe, which follows a DESTDIR or relocated install), then in $(bindir); nginx at
 * /usr/sbin/nginx or on PATH; consul on PATH. Environment overrides, for tests run from the build
 * tree: FACTOTUM_SERVER_FCGI, FACTOTUM_SERVER_WORKER, FACTOTUM_SERVER_NGINX,
 * FACTOTUM_SERVER_CONSUL, and FACTOTUM_SERVER_WWW for the dashboard's files.
 *
 * As root, nginx's workers run as www-data (nobody if there is no www-data) and the responder's
 * socket (0660) is given that user's group (unless --fcgi-socket-group names another), so nginx
 * can connect and no other user can. The socket then leaves the spool for /run/factotum-server
 * (core/fcgisock.h), the spool becomes the service user's (0750) and the responder and the
 * worker become that user themselves (core/privdrop.h). The launcher stays root: it starts nginx,
 * whose master must be root to bind any port and to set its workers' user, and it must be able
 * to signal and stop that master; it reads no request and runs no one's code.
 *
 * --write-nginx-conf DIR only writes the nginx configuration such a node would run, with DIR as
 * nginx's prefix, and exits: the tests and benchmarks run nginx from it, so the launcher's code
 * is the one place that fills nginx/'s templates. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "consul.h"
#include "err.h"
#include "fcgisock.h"
#include "log.h"
#include "nginxconf.h"
#include "privdrop.h"
#include "probe.h"
#include "procs.h"
#include "sdnotify.h"
#include "xalloc.h"

#define PROG "factotum-server"
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/factotum-server"
#endif
#ifndef BINDIR
#define BINDIR "/usr/local/bin"
#endif
#define START_TIMEOUT_MS  15000
#define CONSUL_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS   10000

/* Start order; stopped in reverse. */
enum { P_CONSUL, P_RESPONDER, P_WORKER, P_NGINX, P_COUNT };

struct launcher {
	struct config cfg;
	int consul_dev;          /* --consul-dev */
	const char *write_nginx; /* --write-nginx-conf's DIR ("" when missing), or NULL */
	char **opts;             /* the options passed on to the responder and the worker */
	int n_opts;
	char *fcgi_bin, *worker_bin, *nginx_bin, *consul_bin;
	char *nginx_prefix;             /* <spool>/nginx */
	char *worker_sock;              /* <spool>/worker.sock */
	char *nginx_user, *nginx_group; /* NULL unless root */
	gid_t nginx_gid;
	struct privdrop pd;    /* the service user the responder and the worker become */
	char *sock_opt;        /* --fcgi-socket=... added to the passed-on options, or NULL */
	char *group_opt;       /* --fcgi-socket-group=... added to them, or NULL */
	char *status_url;      /* http://<ip or loopback>:<port>/status */
	struct consul *consul; /* asks for Consul's leader as the others reach it; NULL without */
	struct proc procs[P_COUNT];
};

static const struct cli_program launcher_cli = {
	PROG,
	"Usage: " PROG " [OPTION]...\n"
	"Runs a factotum-server node on this machine: nginx on --ip:--port in front of the\n"
	"responder (factotum-server-fcgi) and the worker (factotum-server-worker), all stopped\n"
	"together on SIGINT/SIGTERM. Every option below is passed on to the responder and the\n"
	"worker.\n"
	"Launcher option:\n"
	"  --consul-dev                 start a Consul dev agent (consul agent -dev) on\n"
	"                               --consul-ip:--consul-port for development\n"
	"  --write-nginx-conf=DIR       write the node's nginx configuration with DIR as nginx's\n"
	"                               prefix (DIR/nginx.conf, DIR/factotum-server.conf,\n"
	"                               DIR/factotum-server-limits.conf, DIR/tmp/) and exit\n",
	CONFIG_PROG_LAUNCHER,
};

/* A failure that ends the launcher: always written, whatever --log-level says. */
static void launcher_fail(const struct launcher *l, const char *msg)
{
	log_init(PROG, l->cfg.log_level > CONFIG_LOG_ERROR ? l->cfg.log_level : CONFIG_LOG_ERROR);
	log_error("%s", msg);
}

/* Splits the launcher's own options off argv: l->opts gets the rest (pointers into argv). As
 * for every option, a next argument starting with "--" is not --write-nginx-conf's value. */
static void launcher_split_args(struct launcher *l, int argc, char **argv)
{
	static const char wn[] = "--write-nginx-conf";
	int i;

	/* room for the two options launcher_socket may add */
	l->opts = xcalloc((size_t)argc + 3, sizeof(char *));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--consul-dev") == 0)
			l->consul_dev = 1;
		else if (strncmp(argv[i], wn, sizeof(wn) - 1) == 0 &&
			 argv[i][sizeof(wn) - 1] == '=')
			l->write_nginx = argv[i] + sizeof(wn);
		else if (strcmp(argv[i], wn) == 0)
			l->write_nginx =
				i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 ? argv[++i] : "";
		else
			l->opts[l->n_opts++] = argv[i];
	}
}

static int launcher_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* name found on PATH, or NULL. New string, caller frees. */
static char *launcher_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL, *cand;

	copy = xstrdup(path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir != NULL && found == NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		cand = xasprintf("%s/%s", *dir ? dir : ".", name);
		if (launcher_executable(cand))
			found = cand;
		else
			free(cand);
	}
	free(copy);
	return found;
}

/* One of our programs: $env, else next to the launcher, else $(bindir). New string or NULL
 * with *errp set. */
static char *launcher_find_own(const char *name, const char *env, char **errp)
{
	const char *over = getenv(env);
	char self[4096], *dir, *cand;
	ssize_t n;

	if (over != NULL && *over != '\0') {
		if (launcher_executable(over))
			return xstrdup(over);
		err_set(errp, FS_ENOENT, "%s=%s is not an executable file", env, over);
		return NULL;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		cand = xasprintf("%s/%s", dir, name);
		if (launcher_executable(cand))
			return cand;
		free(cand);
	}
	cand = xasprintf("%s/%s", BINDIR, name);
	if (launcher_executable(cand))
		return cand;
	free(cand);
	err_set(errp, FS_ENOENT, "%s not found next to the launcher or in %s (set %s)", name,
		BINDIR, env);
	return NULL;
}

static int launcher_find_programs(struct launcher *l, char **errp)
{
	const char *over = getenv("FACTOTUM_SERVER_NGINX");

	if ((l->fcgi_bin = launcher_find_own("factotum-server-fcgi", "FACTOTUM_SERVER_FCGI",
					     errp)) == NULL ||
	    (l->worker_bin = launcher_find_own("factotum-server-worker", "FACTOTUM_SERVER_WORKER",
					       errp)) == NULL)
		return FS_ENOENT;
	if (over != NULL && *over != '\0')
		l->nginx_bin = launcher_executable(over) ? xstrdup(over) : NULL;
	else if (launcher_executable("/usr/sbin/nginx"))
		l->nginx_bin = xstrdup("/usr/sbin/nginx");
	else
		l->nginx_bin = launcher_on_path("nginx");
	if (l->nginx_bin == NULL)
		return err_set(errp, FS_ENOENT,
			       "nginx not found (%s): install it with "
			       "'apt-get install nginx'",
			       over != NULL && *over != '\0'
				       ? over
				       : "looked for /usr/sbin/nginx and on PATH");
	if (l->consul_dev) {
		over = getenv("FACTOTUM_SERVER_CONSUL");
		l->consul_bin = over != NULL && *over != '\0'
					? (launcher_executable(over) ? xstrdup(over) : NULL)
					: launcher_on_path("consul");
		if (l->consul_bin == NULL)
			return err_set(errp, FS_ENOENT,
				       "--consul-dev: no consul binary on PATH "
				       "(scripts/fetch-consul.sh fetches one)");
	}
	return 0;
}

/* mkdir -p, each created directory 0755 whatever the umask (nginx's workers must reach the
 * responder's socket inside). */
static int launcher_mkdirs(const char *path, char **errp)
{
	char *p = xstrdup(path), *s, c;
	int rc = 0;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0755) == 0)
			chmod(p, 0755);
		else if (errno != EEXIST) {
			rc = err_set(errp, FS_EIO, "--spool: cannot create '%s': %s", p,
				     strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* As root, the user and group nginx's workers run as: www-data, else nobody. */
static int launcher_nginx_user(struct launcher *l, char **errp)
{
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam("www-data");
	if (pw == NULL)
		pw = getpwnam("nobody");
	if (pw == NULL)
		return err_set(errp, FS_ENOENT, "no www-data or nobody user for nginx's workers");
	l->nginx_user = xstrdup(pw->pw_name);
	l->nginx_gid = pw->pw_gid;
	gr = getgrgid(pw->pw_gid);
	l->nginx_group = gr != NULL ? xstrdup(gr->gr_name) : xasprintf("%ld", (long)pw->pw_gid);
	return 0;
}

/* As root, the responder's socket: in /run/factotum-server unless --fcgi-socket says where, and
 * in the group of nginx's workers unless --fcgi-socket-group says which; both passed on, so that
 * the responder binds the socket the launcher probes and nginx connects to. */
static int launcher_socket(struct launcher *l, char **errp)
{
	struct config *cfg = &l->cfg;
	gid_t gid = l->nginx_gid;
	int have_group = 1;

	if (l->nginx_user == NULL)
		return 0;
	if (cfg->fcgi_socket_group == NULL) {
		cfg->fcgi_socket_group = xstrdup(l->nginx_group);
		l->group_opt = xasprintf("--fcgi-socket-group=%s", l->nginx_group);
		l->opts[l->n_opts++] = l->group_opt;
	} else if ((have_group = fcgisock_group(cfg, &gid, errp)) < 0) {
		return have_group;
	}
	if (!cfg->fcgi_socket_default)
		return 0;
	if (fcgisock_place(cfg, &l->pd, have_group, gid, errp) != 0)
		return FS_EIO;
	l->sock_opt = xasprintf("--fcgi-socket=%s", cfg->fcgi_socket);
	l->opts[l->n_opts++] = l->sock_opt;
	return 0;
}

static int launcher_prepare(struct launcher *l, char **errp)
{
	const struct config *cfg = &l->cfg;
	const char *host = cfg->ip;

	if (launcher_mkdirs(cfg->spool, errp) != 0)
		return FS_EIO;
	l->nginx_prefix = xasprintf("%s/nginx", strcmp(cfg->spool, "/") == 0 ? "" : cfg->spool);
	l->worker_sock =
		xasprintf("%s/worker.sock", strcmp(cfg->spool, "/") == 0 ? "" : cfg->spool);
	if (mkdir(l->nginx_prefix, 0755) != 0 && errno != EEXIST)
		return err_set(errp, FS_EIO, "--spool: cannot create '%s': %s", l->nginx_prefix,
			       strerror(errno));
	if (access(cfg->spool, W_OK) != 0)
		return err_set(errp, FS_EIO, "--spool: '%s' is not writable: %s", cfg->spool,
			       strerror(errno));
	if (launcher_nginx_user(l, errp) != 0)
		return FS_ENOENT;
	if (privdrop_own_spool(&l->pd, cfg->spool, errp) != 0 || launcher_socket(l, errp) != 0)
		return FS_EIO;
	/* the readiness check asks nginx itself, over loopback when it listens on all addresses */
	if (strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	l->status_url = xasprintf(strchr(host, ':') ? "%s://[%s]:%d/status" : "%s://%s:%d/status",
				  cfg->tls_cert != NULL ? "https" : "http", host, cfg->port);
	/* the same client, address, TLS and token as the responder and the worker use */
	if (!cfg->no_consul) {
		if (consul_global_init(errp) != 0)
			return FS_EIO;
		l->consul = consul_new(cfg, 2000);
	}
	return 0;
}

/* argv for one of our programs: bin then the passed-on options. Free the array only. */
static char **launcher_child_argv(const struct launcher *l, char *bin)
{
	char **argv = xcalloc((size_t)l->n_opts + 2, sizeof(char *));

	argv[0] = bin;
	memcpy(argv + 1, l->opts, (size_t)l->n_opts * sizeof(char *));
	return argv;
}

/* Readiness checks: 1 ready, 0 not yet, negative with *errp set when it never will be. */
typedef int (*ready_fn)(struct launcher *l, char **errp);

static int ready_consul(struct launcher *l, char **errp)
{
	(void)errp;
	return consul_ping(l->consul, NULL) == 0;
}

static int ready_responder(struct launcher *l, char **errp)
{
	if (l->cfg.fcgi_host != NULL)
		return probe_tcp(l->cfg.fcgi_host, l->cfg.fcgi_port);
	return probe_unix(l->cfg.fcgi_socket, 0);
}

static int ready_worker(struct launcher *l, char **errp)
{
	return probe_unix(l->worker_sock, 1);
}

static int ready_nginx(struct launcher *l, char **errp)
{
	char *up;
	int code = probe_http_get(l->status_url, 2000, NULL, NULL);

	if (code == 0)
		return 0;
	if (code == 200 || (code == 401 && l->cfg.htpasswd != NULL))
		return 1; /* with --htpasswd nginx answers; the responder was checked on its own */
	up = nginxconf_upstream(&l->cfg);
	if (code == 502)
		err_set(errp, FS_EIO, "nginx cannot reach the responder at %s%s%s%s", up,
			l->nginx_user != NULL ? " (its workers run as " : "",
			l->nginx_user != NULL ? l->nginx_user : "",
			l->nginx_user != NULL ? ": every directory above the socket must be "
						"searchable by it)"
					      : "");
	else
		err_set(errp, FS_EIO, "nginx answered %d to GET %s", code, l->status_url);
	free(up);
	return FS_EIO;
}

/* The last "[emerg]" or "[alert]" line of nginx's error log without its timestamp, or NULL.
 * New string, caller frees. */
static char *launcher_nginx_error(const struct launcher *l)
{
	char *path = xasprintf("%s/error.log", l->nginx_prefix), *line = NULL, *last = NULL;
	const char *m;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	while (f != NULL && getline(&line, &cap, f) > 0) {
		if ((m = strstr(line, "[emerg]")) == NULL && (m = strstr(line, "[alert]")) == NULL)
			continue;
		free(last);
		last = xstrdup(m);
		last[strcspn(last, "\n")] = '\0';
	}
	if (f != NULL)
		fclose(f);
	free(line);
	free(path);
	return last;
}

/* Waits until ready says so while p runs. 0 ready; 1 a stop was requested; negative with *errp
 * set when p (or another child) died, ready failed, or the time ran out. */
static int launcher_wait_ready(struct launcher *l, struct proc *p, ready_fn ready, int timeout_ms,
			       char **errp)
{
	struct proc *dead;
	char *why;
	int r, waited = 0, sig;

	for (;;) {
		if ((dead = procs_reap(l->procs, P_COUNT)) != NULL) {
			why = dead == &l->procs[P_NGINX] ? launcher_nginx_error(l) : NULL;
			err_set(errp, FS_EIO, "%s exited during start-up (%s)%s%s", dead->name,
				procs_describe(dead->status), why != NULL ? ": " : "",
				why != NULL ? why : "");
			free(why);
			return FS_EIO;
		}
		if ((r = ready(l, errp)) != 0)
			return r > 0 ? 0 : r;
		if (waited >= timeout_ms)
			return err_set(errp, FS_EIO, "%s did not become ready in %d s", p->name,
				       timeout_ms / 1000);
		sig = procs_wait_event(50);
		if (sig != 0 && sig != SIGCHLD) {
			log_info("signal %d during start-up: stopping", sig);
			return 1;
		}
		waited += 50;
	}
}

static int launcher_start_consul(struct launcher *l, char **errp)
{
	char *logp = xasprintf("%s/consul-dev.log", l->cfg.spool);
	char *client = xasprintf("-client=%s", l->cfg.consul_ip);
	char *port = xasprintf("-http-port=%d", l->cfg.consul_port);
	char *argv[] = { l->consul_bin, "agent", "-dev", client, port, NULL };
	int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), rc = FS_EIO;

	if (fd < 0) {
		err_set(errp, FS_EIO, "cannot write %s: %s", logp, strerror(errno));
		goto out;
	}
	if (probe_tcp(l->cfg.consul_ip, l->cfg.consul_port)) {
		err_set(errp, FS_EBUSY,
			"--consul-dev: something already listens on %s port %d "
			"(a Consul agent? then leave out --consul-dev)",
			l->cfg.consul_ip, l->cfg.consul_port);
		goto out;
	}
	if (procs_spawn(&l->procs[P_CONSUL], argv, fd, fd, errp) != 0)
		goto out;
	log_info("started consul agent -dev (pid %ld), its log is %s", (long)l->procs[P_CONSUL].pid,
		 logp);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(port);
	free(client);
	free(logp);
	return rc;
}

/* Starts our program p (bin) with the passed-on options. */
static int launcher_start_own(struct launcher *l, struct proc *p, char *bin, char **errp)
{
	char **argv = launcher_child_argv(l, bin);
	int rc = procs_spawn(p, argv, -1, -1, errp);

	if (rc == 0)
		log_info("started %s (pid %ld)", bin, (long)p->pid);
	free(argv);
	return rc;
}

/* The dashboard's files nginx serves at /ui/: FACTOTUM_SERVER_WWW (the source tree's www/ for
 * tests run from the build tree), else $(pkgdatadir)/www as installed. Static storage or the
 * environment's. */
static const char *launcher_www(void)
{
	const char *over = getenv("FACTOTUM_SERVER_WWW");

	return over != NULL && *over != '\0' ? over : PKGDATADIR "/www";
}

static int launcher_start_nginx(struct launcher *l, char **errp)
{
	struct nginxconf nc = { l->nginx_prefix, l->nginx_user, l->nginx_group, launcher_www() };
	char *conf = xasprintf("%s/nginx.conf", l->nginx_prefix);
	char *elog = xasprintf("%s/error.log", l->nginx_prefix);
	char *pidf = xasprintf("%s/nginx.pid", l->nginx_prefix);
	char *argv[] = { l->nginx_bin, "-p", l->nginx_prefix, "-c", conf, "-e", elog, NULL };
	int rc;

	if ((rc = nginxconf_write(&nc, &l->cfg, errp)) != 0)
		goto out;
	unlink(pidf);
	if ((rc = procs_spawn(&l->procs[P_NGINX], argv, -1, -1, errp)) != 0)
		goto out;
	log_info("started %s -c %s (pid %ld)", l->nginx_bin, conf, (long)l->procs[P_NGINX].pid);
out:
	free(pidf);
	free(elog);
	free(conf);
	return rc;
}

/* --write-nginx-conf: the files launcher_start_nginx writes, under l->write_nginx instead. */
static int launcher_write_nginx(struct launcher *l, char **errp)
{
	struct nginxconf nc = { l->write_nginx, NULL, NULL, launcher_www() };

	if (mkdir(l->write_nginx, 0755) != 0 && errno != EEXIST)
		return err_set(errp, FS_EIO, "--write-nginx-conf: cannot create '%s': %s",
			       l->write_nginx, strerror(errno));
	if (launcher_nginx_user(l, errp) != 0)
		return FS_ENOENT;
	nc.user = l->nginx_user;
	nc.group = l->nginx_group;
	return nginxconf_write(&nc, &l->cfg, errp);
}

/* Starts the node. 0 running; 1 a stop was requested meanwhile; negative with *errp set. */
static int launcher_start(struct launcher *l, char **errp)
{
	struct config *cfg = &l->cfg;
	int rc;

	if ((rc = probe_port_free(cfg->ip, cfg->port, errp)) != 0)
		return rc;
	if (cfg->fcgi_host == NULL && probe_unix(cfg->fcgi_socket, 0))
		return err_set(errp, FS_EBUSY,
			       "the responder socket %s is in use by another "
			       "process (another node on this spool?)",
			       cfg->fcgi_socket);
	if (l->consul_dev) {
		if ((rc = launcher_start_consul(l, errp)) != 0 ||
		    (rc = launcher_wait_ready(l, &l->procs[P_CONSUL], ready_consul,
					      CONSUL_TIMEOUT_MS, errp)) != 0)
			return rc;
	} else if (!cfg->no_consul && !ready_consul(l, NULL)) {
		return err_set(errp, FS_EIO,
			       "Consul is not answering at %s: start an agent, "
			       "or run with --no-consul (single node) or --consul-dev",
			       cfg->consul_address);
	}
	if ((rc = launcher_start_own(l, &l->procs[P_RESPONDER], l->fcgi_bin, errp)) != 0 ||
	    (rc = launcher_wait_ready(l, &l->procs[P_RESPONDER], ready_responder, START_TIMEOUT_MS,
				      errp)) != 0)
		return rc;
	if ((rc = launcher_start_own(l, &l->procs[P_WORKER], l->worker_bin, errp)) != 0 ||
	    (rc = launcher_wait_ready(l, &l->procs[P_WORKER], ready_worker, START_TIMEOUT_MS,
				      errp)) != 0)
		return rc;
	if ((rc = launcher_start_nginx(l, errp)) != 0 ||
	    (rc = launcher_wait_ready(l, &l->procs[P_NGINX], ready_nginx, START_TIMEOUT_MS,
				      errp)) != 0)
		return rc;
	return 0;
}

/* Until a stop is requested (0) or a child dies (1). */
static int launcher_run(struct launcher *l)
{
	struct proc *dead;
	int sig;

	for (;;) {
		sig = procs_wait_event(1000);
		if (sig != 0 && sig != SIGCHLD) {
			log_info("signal %d: stopping the node", sig);
			return 0;
		}
		if ((dead = procs_reap(l->procs, P_COUNT)) != NULL) {
			log_error("%s exited unexpectedly (%s): stopping the node", dead->name,
				  procs_describe(dead->status));
			return 1;
		}
	}
}

static void launcher_stop(struct launcher *l)
{
	int i;

	for (i = P_COUNT - 1; i >= 0; i--) {
		if (l->procs[i].pid > 0)
			log_info("stopping %s (pid %ld)", l->procs[i].name, (long)l->procs[i].pid);
		procs_stop(&l->procs[i], l->procs, P_COUNT, STOP_TIMEOUT_MS);
	}
}

static void launcher_free(struct launcher *l)
{
	free(l->opts);
	free(l->fcgi_bin);
	free(l->worker_bin);
	free(l->nginx_bin);
	free(l->consul_bin);
	free(l->nginx_prefix);
	free(l->worker_sock);
	free(l->nginx_user);
	free(l->nginx_group);
	free(l->status_url);
	consul_free(l->consul);
	free(l->sock_opt);
	free(l->group_opt);
	privdrop_free(&l->pd);
	config_free(&l->cfg);
}

int main(int argc, char **argv)
{
	struct launcher l;
	char *err = NULL, **cargv = NULL;
	int rc, status = 1;
	gid_t gid;

	memset(&l, 0, sizeof(l));
	l.procs[P_CONSUL] = (struct proc){ .name = "consul", .stop_signal = SIGINT };
	l.procs[P_RESPONDER] = (struct proc){ .name = "responder", .stop_signal = SIGTERM };
	l.procs[P_WORKER] = (struct proc){ .name = "worker", .stop_signal = SIGTERM };
	/* SIGQUIT: nginx finishes the requests it has, then exits */
	l.procs[P_NGINX] = (struct proc){ .name = "nginx", .stop_signal = SIGQUIT, .group = 1 };
	config_init(&l.cfg);
	launcher_split_args(&l, argc, argv);
	cargv = launcher_child_argv(&l, argv[0]);
	if (cli_parse(&l.cfg, l.n_opts + 1, cargv, &launcher_cli, &status) != 0)
		goto out;
	if (l.consul_dev && l.cfg.no_consul) {
		log_plain(CONFIG_LOG_ERROR,
			  PROG ": --consul-dev and --no-consul contradict each other");
		status = 2;
		goto out;
	}
	/* the dev agent is plain HTTP on --consul-ip:--consul-port */
	if (l.consul_dev && l.cfg.consul_addr != NULL) {
		fprintf(stderr,
			PROG ": --consul-dev: the dev agent listens on --consul-ip:--consul-port, "
			     "not at %s (--consul-addr or CONSUL_HTTP_ADDR)\n",
			l.cfg.consul_addr);
		status = 2;
		goto out;
	}
	if (nginxconf_check(&l.cfg, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		status = 2;
		goto out;
	}
	if (l.write_nginx != NULL && l.write_nginx[0] == '\0') {
		status = cli_usage_error(PROG, "--write-nginx-conf: missing value");
		goto out;
	}
	if (l.write_nginx != NULL && l.write_nginx[0] != '/') {
		log_plain(CONFIG_LOG_ERROR, PROG ": --write-nginx-conf: not an absolute path");
		status = 2;
		goto out;
	}
	if (l.write_nginx != NULL) {
		if ((status = launcher_write_nginx(&l, &err) != 0))
			launcher_fail(&l, err);
		goto out;
	}
	/* users and groups that do not exist are an operator's error, like a bad option */
	if (privdrop_resolve(&l.cfg, &l.pd, &err) != 0 ||
	    (l.cfg.fcgi_socket_group != NULL && fcgisock_group(&l.cfg, &gid, &err) < 0)) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		status = 2;
		goto out;
	}
	log_init(PROG, l.cfg.log_level);
	/* the node's programs must not notify in the launcher's name: they start without it */
	if (sdnotify_open(&err) != 0) {
		log_warn("%s", err);
		free(err);
		err = NULL;
	}
	procs_block_signals();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (launcher_find_programs(&l, &err) != 0 || launcher_prepare(&l, &err) != 0) {
		launcher_fail(&l, err);
		goto cleanup;
	}
	rc = launcher_start(&l, &err);
	if (rc < 0) {
		launcher_stop(&l);
		launcher_fail(&l, err);
		goto cleanup;
	}
	status = 0; /* a stop requested during start-up is a clean stop */
	if (rc == 0) {
		char *listen = nginxconf_listen(&l.cfg);

		printf(PROG ": listening on %s://%s/ (spool %s)\n",
		       l.cfg.tls_cert != NULL ? "https" : "http", listen, l.cfg.spool);
		fflush(stdout);
		sdnotify_send("READY=1\nSTATUS=listening on %s://%s/",
			      l.cfg.tls_cert != NULL ? "https" : "http", listen);
		free(listen);
		status = launcher_run(&l);
		sdnotify_send("STOPPING=1");
	}
	launcher_stop(&l);
cleanup:
	curl_global_cleanup();
out:
	free(cargv);
	free(err);
	launcher_free(&l);
	sdnotify_close();
	return status;
}
