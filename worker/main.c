/* SPDX-License-Identifier: Apache-2.0 */
/* factotum-server-worker: the daemon that drains the node's spool (doc/architecture.md). One
 * per spool (flock on the spool directory); woken by the responder's datagram on
 * <spool>/worker.sock the moment a job is committed or a cancel recorded, with a slow poll only
 * for a lost datagram. SIGTERM/SIGINT stop dispatching and exit 0: runs keep going under their
 * supervisors and the next worker re-adopts them. Its pid, start time and runner state are in the
 * spool settings worker.pid, worker.started and worker.runner for /status and /health.
 * Started as root, it takes the spool and becomes the service user at once (core/privdrop.h),
 * keeping only what starting runs as the run user and ending them need: CAP_SETUID, CAP_SETGID,
 * CAP_KILL and CAP_CHOWN (a run's directory goes to the run user). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "privdrop.h"
#include "prune.h"
#include "schedcfire.h"
#include "schedfire.h"
#include "runas.h"
#include "runident.h"
#include "runroot.h"
#include "sdnotify.h"
#include "settings.h"
#include "spool.h"
#include "reconcile.h"
#include "statesync.h"
#include "xalloc.h"

#define PROG           "factotum-server-worker"
#define WORKER_POLL_MS 5000 /* only for a lost datagram: every wake-up is signalled */
#define WORKER_CAPS                                                                     \
	(PRIVDROP_CAP(CAP_SETUID) | PRIVDROP_CAP(CAP_SETGID) | PRIVDROP_CAP(CAP_KILL) | \
	 PRIVDROP_CAP(CAP_CHOWN))

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* The lock that makes this the spool's only worker: flock on the spool directory itself, which
 * no one can delete away while the spool is in use (a lock file could be, and SQLite's own locks
 * on spool.db are POSIX locks that closing any descriptor of that file would drop). Held (fd
 * open) until exit. A worker.lock file left by an older version is removed. -1 on failure, with
 * the reason on stderr. */
static int worker_lock(const char *spool)
{
	char *old = xasprintf("%s/worker.lock", spool);
	int fd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": cannot open %s: %s", spool, strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": spool %s: %s", spool,
			  errno == EWOULDBLOCK ? "another worker holds this spool"
					       : strerror(errno));
		close(fd);
		fd = -1;
	} else {
		(void)unlink(old);
	}
	free(old);
	return fd;
}

/* Binds <spool>/worker.sock (a stale file of a dead worker is replaced: the lock proves it
 * dead). -1 on failure, with the reason on stderr. */
static int worker_socket(const char *spool, char **pathp)
{
	struct sockaddr_un sa;
	char *path = xasprintf("%s/worker.sock", spool);
	int fd = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s: path too long for a unix socket", path);
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path));
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s: %s", path, strerror(errno));
		goto fail;
	}
	*pathp = path;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

/* Empties the socket: any number of wake-ups means one look at the spool. */
static void worker_drain(int fd)
{
	char buf[64];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/* A run's user reaches its working directory <spool>/runs/<id> (its own, 0750, the service
 * group) by path, as $HOME, through the group of the spool (0750) and of runs/ (0710), which
 * becomes the run user's: it may list the spool's few names but read nothing in it (0640 and 0600
 * files, 0750 directories of the service group), and only pass through runs/. Others get nothing.
 * 0 or -1 (said on stderr). */
static int worker_passage(const char *dir, mode_t mode, gid_t gid)
{
	if (chown(dir, (uid_t)-1, gid) != 0 || chmod(dir, mode) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": cannot let runs through '%s': %s", dir,
			  strerror(errno));
		return -1;
	}
	return 0;
}

static int worker_publish(struct spool *sp, int64_t started_ms, const struct config *cfg,
			  const struct runas *ra)
{
	struct runident ri;
	char pid[32], started[32], *err = NULL, *runas;
	int rc;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(started, sizeof(started), "%" PRId64, started_ms);
	/* who the runs are, for /submit's readability check; a worker that cannot switch runs
	 * them as itself, the responder's user too, and nothing needs checking */
	if (ra->active) {
		ri.any_uid = cfg->run_uid_first > 0;
		ri.uid = ra->uid;
		ri.gid = ra->gid;
		ri.groups = ra->groups;
		ri.ngroups = ra->ngroups;
		ri.name = ra->name;
		runas = runident_format(&ri);
	} else {
		runas = xstrdup(RUNIDENT_SELF);
	}
	/* the pid last: it says the worker is there, so what it says of the runs is in place
	 * before anyone can see it */
	rc = spool_setting_set(sp, SETTINGS_WORKER_RUNAS, runas, &err) != 0 ||
	     spool_setting_set(sp, SETTINGS_WORKER_STARTED, started, &err) != 0 ||
	     spool_setting_set(sp, SETTINGS_WORKER_PID, pid, &err) != 0;
	free(runas);
	if (rc) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		free(err);
		return -1;
	}
	return 0;
}

/* The worker's own checkpoint, for a node whose responder is not running: what it committed
 * reaches spool.db within SPOOL_CHECKPOINT_MS. A failure is logged and tried again next time. */
static void worker_checkpoint(struct spool *sp)
{
	char *err = NULL;

	if (spool_checkpoint(sp, &err) != 0)
		log_warn("%s", err);
	free(err);
}

static const struct cli_program worker_cli = {
	PROG,
	"Usage: " PROG " [OPTION]...\n"
	"The worker daemon of factotum-server (runs the spool's jobs).\n"
	"The other options of factotum-server are accepted and checked, so that one file serves\n"
	"every program, but not used.\n",
	CONFIG_PROG_WORKER,
};

int main(int argc, char *argv[])
{
	struct config cfg;
	struct worker w;
	struct pruner pr;
	struct schedfire sf;
	struct schedcfire scf = { 0 };
	struct runas ra = { 0 };
	struct spool *sp = NULL;
	struct pollfd *pfd = NULL;
	struct privdrop pd;
	sigset_t mask;
	char *err = NULL, *sock_path = NULL;
	int rc, status = 1, lockfd = -1, sockfd = -1, sfd = -1, stop = 0, have_w = 0, flags, woke,
		wait_ms;
	int have_pr = 0, have_sf = 0;
	int64_t cancels_at, checkpoint_at;
	size_t n;

	memset(&pd, 0, sizeof(pd));
	/* what it creates in the spool is for the service user and its group only */
	umask(0027);
	config_init(&cfg);
	if (cli_parse(&cfg, argc, argv, &worker_cli, &status) != 0)
		goto out;
	log_init("factotum-server-worker", cfg.log_level);
	/* before the drop of privileges, which may leave the notify socket out of reach */
	if (sdnotify_open(&err) != 0) {
		log_warn("%s", err);
		free(err);
		err = NULL;
	}
	if (privdrop_resolve(&cfg, &pd, &err) != 0) {
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
	    runroot_prepare(&cfg, &pd, &err) != 0 ||
	    privdrop_apply(&pd, WORKER_CAPS, 1, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	/* after the drop: the run user is checked against the user the worker now is, and can be
	 * switched to only with the capabilities it kept */
	if (runas_resolve(&cfg, &ra, &err) != 0 || runroot_check_reach(&cfg, &ra, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		status = 2;
		goto out;
	}
	/* signals come through a signalfd; a runner's broken pipe is never ours */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": signalfd: %s", strerror(errno));
		goto out;
	}
	if ((lockfd = worker_lock(cfg.spool)) < 0 ||
	    (sockfd = worker_socket(cfg.spool, &sock_path)) < 0)
		goto out;
	/* with Consul, the schedules' firer: forked before the spool is open (schedcfire.h) */
	schedcfire_start(&scf, &cfg);
	/* with Consul, every transition also goes to the outbox, delivered by the Consul client */
	flags = (cfg.spool_sync == CONFIG_SYNC_NORMAL ? SPOOL_SYNC_NORMAL : 0) |
		(cfg.no_consul ? 0 : SPOOL_OUTBOX) | SPOOL_RESERVE;
	if (spool_open(&sp, cfg.spool, flags, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	if (worker_publish(sp, clock_real_ms(), &cfg, &ra) != 0 ||
	    dispatch_init(&w, &cfg, sp, lockfd) != 0)
		goto out;
	have_w = 1;
	w.runas = &ra;
	if (ra.active && (worker_passage(cfg.spool, 0750, ra.gid) != 0 ||
			  worker_passage(w.runs_dir, 0710, ra.gid) != 0 ||
			  worker_passage(w.factfiles_dir, 0710, ra.gid) != 0))
		goto out;
	/* before any thread: argpolicy_prepare may load libcurl */
	have_sf = 1;
	if (schedfire_init(&sf, &cfg, sp, &err) != 0) {
		log_plain(CONFIG_LOG_ERROR, PROG ": %s", err);
		goto out;
	}
	/* the session and the node's Consul entries first: nothing is recovered or claimed that
	 * the node may have lost */
	if (statesync_init(&cfg, sp) != 0)
		goto out;
	statesync_start();
	/* claims of responders that died before their commit, entries Consul lost */
	reconcile_init(&cfg, sp);
	reconcile_round(1);
	log_info("started on %s (max-workers %d)", cfg.spool, cfg.max_workers);
	dispatch_recover(&w);
	/* the spool is open, its lock held and the runs of a previous worker re-adopted */
	sdnotify_send("READY=1\nSTATUS=running the jobs of %s", cfg.spool);
	dispatch_cancels(&w);
	cancels_at = checkpoint_at = clock_mono_ms();
	dispatch_fill(&w);
	statesync_round();
	prune_init(&pr, &cfg, sp, w.runs_dir, w.logs_dir);
	have_pr = 1;
	/* slots due while no worker ran: catchUp decides, before the loop's first wait */
	schedfire_round(&sf, 1);
	dispatch_fill(&w);
	while (!stop) {
		/* the signalfd, the socket, then one pidfd per watched run */
		pfd = xgrow_by_one(pfd, w.nruns + 1, sizeof(*pfd)); /* n+1 elements */
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sockfd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		n = dispatch_pollfds(&w, pfd + 2, w.nruns);
		/* at the latest when the next of the loop's timed tasks is due */
		wait_ms = dispatch_poll_ms(&w, WORKER_POLL_MS);
		wait_ms = reconcile_poll_ms(statesync_poll_ms(wait_ms));
		wait_ms = schedfire_poll_ms(&sf, prune_poll_ms(&pr, wait_ms));
		if ((rc = poll(pfd, (nfds_t)n + 2, wait_ms)) < 0 && errno != EINTR) {
			log_plain(CONFIG_LOG_ERROR, PROG ": poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					stop = 1;
			if (stop) {
				log_info("stopping; %zu run(s) continue under their "
					 "supervisors",
					 w.nruns);
				sdnotify_send("STOPPING=1");
				break;
			}
		}
		woke = (pfd[1].revents & POLLIN) != 0;
		if (woke)
			worker_drain(sockfd);
		/* on every wake-up (datagram, supervisor exit or the slow poll) the round, but the
		 * cancel requests only when a datagram may have brought one -- or, for a lost
		 * datagram, on the slow poll and at least as often when supervisor exits keep
		 * the poll from ever timing out */
		dispatch_events(&w, pfd + 2, n);
		dispatch_retry(&w);
		if (woke || rc == 0 || clock_mono_ms() - cancels_at >= WORKER_POLL_MS) {
			dispatch_cancels(&w);
			cancels_at = clock_mono_ms();
			/* given back when the disk filled; taken again once there is room */
			spool_reserve_restore(sp, cfg.min_free_space);
		}
		/* a definition may have changed with any datagram; a slot's job is claimed at once */
		schedfire_round(&sf, woke || rc == 0);
		dispatch_fill(&w);
		dispatch_details(&w);
		statesync_round(); /* the transitions of this round go to Consul now */
		reconcile_round(0);
		prune_round(&pr); /* after the claims: retention never delays them */
		/* the poll's timeout brings the loop round at least every WORKER_POLL_MS */
		if (clock_mono_ms() - checkpoint_at >= SPOOL_CHECKPOINT_MS) {
			worker_checkpoint(sp);
			checkpoint_at = clock_mono_ms();
		}
	}
	status = 0;
out:
	if (sockfd >= 0) {
		close(sockfd);
		(void)unlink(sock_path);
	}
	if (sp != NULL && status == 0) {
		/* a clean stop says so: /status shows no stale pid */
		(void)spool_setting_set(sp, SETTINGS_WORKER_PID, NULL, NULL);
		(void)spool_setting_set(sp, SETTINGS_WORKER_STARTED, NULL, NULL);
	}
	schedcfire_stop(&scf); /* the firing lock goes before the node's session */
	if (have_pr)
		prune_free(&pr);
	if (have_sf)
		schedfire_free(&sf);
	if (have_w && status == 0)
		statesync_stop(w.nruns);
	reconcile_free();
	statesync_free();
	if (have_w)
		dispatch_free(&w);
	spool_close(sp);
	if (lockfd >= 0)
		close(lockfd);
	if (sfd >= 0)
		close(sfd);
	free(pfd);
	free(sock_path);
	free(err);
	privdrop_free(&pd);
	runas_free(&ra);
	config_free(&cfg);
	sdnotify_close();
	return status;
}
