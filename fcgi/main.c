/* SPDX-License-Identifier: Apache-2.0 */
/* factotum-server-fcgi: the FastCGI responder. Options, the listening socket (inherited from
 * spawn-fcgi on fd 0 or from systemd socket activation, else opened on --fcgi-socket), the
 * request threads, and a graceful stop on SIGTERM/SIGINT: in-flight requests are finished, then
 * the process exits 0. Started as root, it takes the spool and binds its socket, then becomes
 * the service user with no capability at all (core/privdrop.h): it runs no one's code. */
#include <errno.h>
#include <fcgiapp.h>
#include <locale.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "checkpointer.h"
#include "claimlog.h"
#include "cli.h"
#include "clock.h"
#include "committer.h"
#include "consul.h"
#include "diskfree.h"
#include "err.h"
#include "fcgisock.h"
#include "log.h"
#include "privdrop.h"
#include "proc.h"
#include "runuser.h"
#include "sdnotify.h"
#include "spool.h"

#define PROG                "factotum-server-fcgi"
#define SD_LISTEN_FDS_START 3

enum thread_state { TH_BUSY, TH_ACCEPTING, TH_EXITED };

struct fcgi_thread {
	pthread_t tid;
	FCGX_Request req;
	enum thread_state state; /* under fcgi_mu */
	struct app *app;
	int plain_close; /* the listening socket is a unix socket (fcgi_is_unix) */
};

static pthread_mutex_t fcgi_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fcgi_exited = PTHREAD_COND_INITIALIZER;
static int fcgi_stopping; /* under fcgi_mu */
/* SIGUSR1 only interrupts a blocking accept() or read() of an idle thread (no SA_RESTART). */
static void fcgi_on_usr1(int sig)
{
	(void)sig;
}

static void *fcgi_thread_main(void *arg)
{
	struct fcgi_thread *th = arg;
	struct http_request req;
	locale_t c_locale;
	int rc;

	/* json-c's parser duplicates the calling thread's locale on every call; duplicating the
	 * global one takes glibc's global locale lock for writing, which all request threads then
	 * queue on (perf, bench/README). The "C" locale object is returned as is, without the lock.
	 * The program never calls setlocale, so its locale is "C" either way: nothing else changes. */
	if ((c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0)) != (locale_t)0)
		uselocale(c_locale);

	for (;;) {
		pthread_mutex_lock(&fcgi_mu);
		if (fcgi_stopping) {
			pthread_mutex_unlock(&fcgi_mu);
			break;
		}
		th->state = TH_ACCEPTING;
		pthread_mutex_unlock(&fcgi_mu);
		/* Every thread accepts on the shared socket itself: the kernel hands each
		 * connection to one of them, so no accept mutex (libfcgi's example mutex
		 * stalls all threads under fastcgi_keep_conn). */
		rc = FCGX_Accept_r(&th->req);
		pthread_mutex_lock(&fcgi_mu);
		th->state = TH_BUSY;
		pthread_mutex_unlock(&fcgi_mu);
		if (rc < 0)
			break;
		http_request_read(&th->req, &req);
		router_dispatch(th->app, &th->req, &req);
		http_request_free(&req);
		/* libfcgi closes a connection with shutdown() and then waits for the peer to close
		 * first, against a TCP reset losing the answer. On a unix socket the answer is
		 * already in nginx's receive queue and the request was read to its end: a plain
		 * close() (libfcgi's for a detached request) spares that wait per request. */
		if (th->plain_close && !th->req.keepConnection && FCGX_GetError(th->req.in) == 0)
			FCGX_Detach(&th->req);
		FCGX_Finish_r(&th->req);
	}
	/* a kept-alive connection stays open after FCGX_Finish_r: close it */
	if (th->req.ipcFd >= 0)
		FCGX_Free(&th->req, 1);
	pthread_mutex_lock(&fcgi_mu);
	th->state = TH_EXITED;
	pthread_cond_broadcast(&fcgi_exited);
	pthread_mutex_unlock(&fcgi_mu);
	return NULL;
}

/* 1 if fd is a unix-domain socket. */
static int fcgi_is_unix(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_UNIX;
}

/* 1 if fd is a listening stream socket. */
static int fcgi_is_listening(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 1;
}

/* The socket handed over by systemd (LISTEN_FDS/LISTEN_PID, first one) or by spawn-fcgi (fd 0),
 * or -1 when neither applies. */
static int fcgi_inherited_socket(void)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");

	if (fds != NULL && pid != NULL && atol(pid) == (long)getpid() && atoi(fds) >= 1) {
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDNAMES");
		if (fcgi_is_listening(SD_LISTEN_FDS_START))
			return SD_LISTEN_FDS_START;
	}
	return fcgi_is_listening(0) ? 0 : -1;
}

/* Binds and listens on the unix socket path. A live responder already on the path is an
 * error; a stale socket file (nobody accepts) is replaced. The socket is 0660: who can connect
 * can submit jobs past nginx's authentication, so the deployer grants nginx's user the group. */
static int fcgi_listen_unix(const char *path, char **errp)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd = -1, probe;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path)); /* length checked by config_parse */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			err_set(errp, FS_EIO, "--fcgi-socket: '%s' exists and is not a socket",
				path);
			goto fail;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			err_set(errp, FS_EIO, "--fcgi-socket: '%s' is in use by another process",
				path);
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		err_set(errp, FS_EIO, "--fcgi-socket: cannot listen on '%s': %s", path,
			strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Removes the socket file this responder bound, unless it is another's by now: a responder that
 * starts while this one is still exiting replaces the file (nobody accepts on it any more), and
 * removing the new one would leave that responder unreachable. */
static void fcgi_unlink_own(const char *path, const struct stat *bound)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == bound->st_dev && st.st_ino == bound->st_ino)
		unlink(path);
}

/* HOST:PORT, IPv4 or IPv6 (FCGX_OpenSocket knows only IPv4). */
static int fcgi_listen_tcp(const char *host, int port, char **errp)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1, one = 1, e, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((e = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		err_set(errp, FS_EIO, "--fcgi-socket: %s: %s", host, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		err_set(errp, FS_EIO, "--fcgi-socket: cannot listen on %s:%d: %s", host, port,
			strerror(saved));
	return fd;
}

/* Waits for SIGTERM/SIGINT (blocked in every thread, taken here synchronously). */
static void fcgi_wait_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	log_info("signal %d: finishing requests in flight", sig);
}

/* Stops the threads: new accepts fail (libfcgi's shutdown flag), idle threads are interrupted
 * with SIGUSR1, busy ones finish their request first. Repeats the interruption because a
 * signal that lands just before a thread blocks is lost. */
static void fcgi_stop_threads(struct fcgi_thread *ths, int n)
{
	struct timespec until;
	int i, left;

	FCGX_ShutdownPending();
	pthread_mutex_lock(&fcgi_mu);
	fcgi_stopping = 1;
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (ths[i].state == TH_ACCEPTING)
				pthread_kill(ths[i].tid, SIGUSR1);
			left += ths[i].state != TH_EXITED;
		}
		if (left == 0)
			break;
		clock_deadline(CLOCK_REALTIME, 50, &until);
		pthread_cond_timedwait(&fcgi_exited, &fcgi_mu, &until);
	}
	pthread_mutex_unlock(&fcgi_mu);
	for (i = 0; i < n; i++)
		pthread_join(ths[i].tid, NULL);
}

static void fcgi_after_commit(void *arg)
{
	workersock_wake(arg);
}

static const struct cli_program fcgi_cli = {
	PROG,
	"Usage: " PROG " [OPTION]...\n"
	"The FastCGI responder of factotum-server (the HTTP API behind nginx).\n"
	"The other options of factotum-server are accepted and checked, so that one file serves\n"
	"every program, but not used.\n",
	CONFIG_PROG_FCGI,
};

int main(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct fcgi_thread *ths = NULL;
	struct spool *sp_commit = NULL, *sp_ckpt = NULL;
	struct checkpointer *ckpt = NULL;
	struct claim_ops claim_ops;
	struct sigaction sa;
	struct privdrop pd;
	sigset_t set;
	char *err = NULL, *own_path = NULL;
	struct stat own_st;
	int rc, listen_fd = -1, nthreads = 0, i, status = 1, flags, have_group = 0;
	gid_t sock_gid = 0;

	memset(&app, 0, sizeof(app));
	memset(&pd, 0, sizeof(pd));
	/* what it creates in the spool is for the service user and its group only */
	umask(0027);
	config_init(&cfg);
	if (cli_parse(&cfg, argc, argv, &fcgi_cli, &status) != 0)
		goto out;
	log_init(PROG, cfg.log_level);
	/* before the drop of privileges, which may leave the notify socket out of reach */
	if (sdnotify_open(&err) != 0) {
		log_warn("%s", err);
		free(err);
		err = NULL;
	}
	if (privdrop_resolve(&cfg, &pd, &err) != 0 ||
	    (have_group = fcgisock_group(&cfg, &sock_gid, &err)) < 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		status = 2;
		goto out;
	}
	if (mkdir(cfg.spool, 0750) != 0 && errno != EEXIST) {
		log_plain(CONFIG_LOG_ERROR, PROG ": --spool: cannot create '%s': %s", cfg.spool,
			  strerror(errno));
		goto out;
	}
	if (privdrop_own_spool(&pd, cfg.spool, &err) != 0 ||
	    fcgisock_place(&cfg, &pd, have_group, sock_gid, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}

	/* signals: TERM/INT are taken by the main thread only; USR1 interrupts idle threads */
	FCGX_Init();
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL); /* nginx went away: the write fails, the thread goes on */
	sa.sa_handler = fcgi_on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	listen_fd = fcgi_inherited_socket();
	if (listen_fd < 0) {
		if (cfg.fcgi_host != NULL) {
			listen_fd = fcgi_listen_tcp(cfg.fcgi_host, cfg.fcgi_port, &err);
		} else {
			listen_fd = fcgi_listen_unix(cfg.fcgi_socket, &err);
			if (listen_fd >= 0 && lstat(cfg.fcgi_socket, &own_st) == 0)
				own_path = xstrdup(cfg.fcgi_socket);
			if (listen_fd >= 0 &&
			    fcgisock_own(cfg.fcgi_socket, &pd, have_group, sock_gid, &err) != 0) {
				log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
				goto out;
			}
		}
		if (listen_fd < 0) {
			log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
			goto out;
		}
	}
	if (privdrop_apply(&pd, 0, 1, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}

	flags = cfg.spool_sync == CONFIG_SYNC_NORMAL ? SPOOL_SYNC_NORMAL : 0;
	/* with Consul, a cancel made here goes to the outbox too (the worker delivers it) */
	if (!cfg.no_consul)
		flags |= SPOOL_OUTBOX;
	/* the committer's WAL is checkpointed by a thread of its own, not inside its commits */
	if (spool_open(&app.sp, cfg.spool, flags, &err) != 0 ||
	    spool_open(&sp_commit, cfg.spool, flags | SPOOL_CHECKPOINT_APART, &err) != 0 ||
	    spool_open(&sp_ckpt, cfg.spool, flags, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	rc = checkpointer_start(&ckpt, sp_ckpt, &err);
	sp_ckpt = NULL;
	if (rc != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	app.cfg = &cfg;
	app.policy.roots = cfg.factfile_roots;
	app.policy.n_roots = cfg.n_factfile_roots;
	/* the graph rules follow the runner that will run the job, so that an accepted job is one
	 * that runner can start: ours with the bundled runner, Factotum 0.7's with any other */
	app.policy.rules = strcmp(cfg.factotum_bin, CONFIG_DEFAULT_FACTOTUM_BIN) == 0
				   ? FACTFILE_RULES_OURS
				   : FACTFILE_RULES_FACTOTUM;
	/* the same few factfiles are submitted over and over: parse each once (jobreq.h) */
	app.policy.cache = jobreq_cache_new();
	app.policy.trust_template_values = cfg.template_values == CONFIG_TEMPLATE_FACTOTUM;
	argpolicy_init(&app.argpolicy, &cfg);
	app.policy.args = &app.argpolicy;
	/* before any thread, as for Consul below: libcurl's global state */
	if (argpolicy_prepare(&app.argpolicy, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	app.policy.max_tasks = (size_t)cfg.max_tasks;
	app.runuser = runuser_new(app.sp);
	if (!cfg.no_consul) {
		/* before any thread: libcurl's global state */
		if (consul_global_init(&err) != 0) {
			log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
			goto out;
		}
		/* Consul being down is not a reason to stop: /submit answers 503 until it is back */
		app.consul = consul_new(&cfg, CONSUL_SUBMIT_TIMEOUT_MS);
		/* the claims name this process by pid and start time, as the worker checks it */
		if (proc_stat(getpid(), &app.pid_start, NULL) != 0 ||
		    claimlog_open(&app.claims, cfg.spool, getpid(), app.pid_start, &err) != 0) {
			log_plain(CONFIG_LOG_ERROR, PROG ": %s",
				  err != NULL ? err : "cannot read /proc/self/stat");
			goto out;
		}
		claim_init(&claim_ops, &app);
		app.claim = &claim_ops;
	}
	app.worker_sock = xasprintf("%s/worker.sock", strcmp(cfg.spool, "/") == 0 ? "" : cfg.spool);
	app.start_ms = clock_real_ms();
	app.disk = diskfree_new(cfg.spool, cfg.run_root, cfg.min_free_space);
	if (committer_start(&app.committer, sp_commit, ckpt, (size_t)cfg.max_jobs,
			    fcgi_after_commit, &app, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	sp_commit = NULL;

	ths = xcalloc((size_t)cfg.fcgi_threads, sizeof(*ths));
	for (i = 0; i < cfg.fcgi_threads; i++) {
		ths[i].app = &app;
		ths[i].state = TH_BUSY;
		ths[i].plain_close = fcgi_is_unix(listen_fd);
		FCGX_InitRequest(&ths[i].req, listen_fd, 0);
		if ((rc = pthread_create(&ths[i].tid, NULL, fcgi_thread_main, &ths[i])) != 0) {
			log_plain(CONFIG_LOG_ERROR, PROG ": cannot start thread %d: %s", i,
				  strerror(rc));
			break;
		}
		nthreads++;
	}
	if (nthreads == cfg.fcgi_threads) {
		log_info("listening with %d threads", nthreads);
		/* the socket listens and the spool is open: a connection is answered from now on */
		sdnotify_send("READY=1\nSTATUS=answering on %s",
			      listen_fd == SD_LISTEN_FDS_START ? "the socket systemd passed"
			      : listen_fd == 0                 ? "the inherited socket"
							       : cfg.fcgi_socket);
		fcgi_wait_signal();
		sdnotify_send("STOPPING=1");
		status = 0;
	}
	fcgi_stop_threads(ths, nthreads);
out:
	committer_stop(app.committer);
	checkpointer_stop(ckpt);
	spool_close(sp_commit);
	spool_close(sp_ckpt);
	spool_close(app.sp);
	if (listen_fd >= 0)
		close(listen_fd);
	if (own_path != NULL)
		fcgi_unlink_own(own_path, &own_st);
	free(own_path);
	free(ths);
	free(app.worker_sock);
	diskfree_free(app.disk);
	jobreq_cache_free(app.policy.cache);
	runuser_free(app.runuser);
	consul_free(app.consul);
	claimlog_close(app.claims); /* the threads are gone: nothing is in flight */
	free(err);
	privdrop_free(&pd);
	config_free(&cfg);
	sdnotify_close();
	return status;
}
