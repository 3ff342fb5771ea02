/* SPDX-License-Identifier: Apache-2.0 */
/* The firer: the worker's firing of schedules with Consul (schedcfire.h). */
#define _GNU_SOURCE
#include "schedcfire.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claimlog.h"
#include "clock.h"
#include "config.h"
#include "consul.h"
#include "consulsched.h"
#include "err.h"
#include "log.h"
#include "privdrop.h"
#include "proc.h"
#include "schedconsul.h"
#include "schedfire.h"
#include "schedjob.h"
#include "schedlock.h"
#include "schedorphan.h"
#include "settings.h"
#include "spool.h"
#include "xalloc.h"

/* Rounds of a firing that found a schedule changed meanwhile, read again at once. */
#define FIRER_RETRIES 3

/* The firer's state, the Consul store's ctx. */
struct firer {
	const struct config *cfg;
	struct spool *sp;
	struct consul *c;
	struct claimlog *journal;
	unsigned long long start; /* this process's, for claimedBy */
	char *session;            /* the node's, as the spool says at each round; NULL: none */
	int64_t read_at;          /* monotonic: the next reading of the schedules */
	int64_t sweep_at;         /* monotonic: the next sweep for orphaned claims; 0 at takeover */
	struct schedorphan watch; /* the claims the sweeps watch */
	int queued;               /* jobs queued since the worker was last woken */
	int denied;               /* a call of this round was refused by Consul's ACL */
};

/* An ACL refusal is the worker's to report (once, setting consul.denied): the firer notes it
 * and gives no message to log. */
static int firer_quiet(struct firer *r, int rc, char **errp)
{
	if (rc == FS_EDENIED) {
		r->denied = 1;
		free(*errp);
		*errp = NULL;
	}
	return rc;
}

static int cstore_load(struct schedfire *f, int reread, struct consulsched **listp, size_t *np,
		       char **errp)
{
	struct firer *r = f->ctx;

	(void)reread;
	if (!f->reload && clock_mono_ms() < r->read_at)
		return 1;
	r->read_at = clock_mono_ms() + SCHEDCFIRE_READ_MS;
	return firer_quiet(r,
			   consulsched_list(r->c, r->cfg->consul_namespace,
					    (size_t)r->cfg->max_schedules, listp, np, errp),
			   errp);
}

static int cstore_fire(struct schedfire *f, struct consulsched *s, int64_t slot,
		       enum spoolsched_result *resultp, char **job_idp, char **errp)
{
	struct firer *r = f->ctx;
	struct schedjob_env job = { .policy = &f->policy,
				    .node = r->cfg->consul_name,
				    .max_queued = (size_t)r->cfg->max_jobs,
				    .max_queued_user = (size_t)r->cfg->max_queued_per_user };
	struct schedconsul_env env = { .job = &job,
				       .consul = r->c,
				       .ns = r->cfg->consul_namespace,
				       .session = r->session,
				       .journal = r->journal,
				       .pid = (long long)getpid(),
				       .start = r->start,
				       .sp = r->sp };
	int rc = firer_quiet(r, schedconsul_fire(&env, s, slot, 1, resultp, job_idp, errp), errp);

	if (rc == 0 && *resultp == SPOOLSCHED_FIRED)
		r->queued++;
	return rc;
}

static int cstore_missed(struct schedfire *f, struct consulsched *s, const int64_t *slots, size_t n,
			 int64_t more, int64_t more_last, int64_t new_last, char **errp)
{
	struct firer *r = f->ctx;
	int64_t index = 0, count = (int64_t)n + (more < 0 ? -more : more);
	char *err = NULL;
	int rc = consulsched_missed(r->c, r->cfg->consul_namespace, s, slots, n, more, more_last,
				    new_last, &index, errp);

	if (rc != 0)
		return firer_quiet(r, rc, errp);
	s->index = index;
	s->history_seq += (int64_t)n + (more != 0);
	s->def.last_slot = new_last;
	/* /metrics counts them on the node that recorded them */
	if (spoolsched_count_add(r->sp, SPOOLSCHED_MISSED, count, &err) != 0) {
		log_warn("schedules: %s", err);
		free(err);
	}
	return 0;
}

static const struct schedfire_store consul_store = {
	.load = cstore_load,
	.fire = cstore_fire,
	.missed = cstore_missed,
	.prune = NULL, /* the history is a ring of CONSULSCHED_RING keys */
	.missed_rows = CONSULSCHED_MISSED_ROWS,
};

/* One datagram to the worker's socket: a job is queued (the responder's wake-up). */
static void firer_wake(const struct config *cfg)
{
	struct sockaddr_un sa;
	char *path = xasprintf("%s/worker.sock", cfg->spool);
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) < sizeof sa.sun_path &&
	    (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) >= 0) {
		memcpy(sa.sun_path, path, strlen(path));
		/* a full queue means the worker is awake anyway */
		(void)sendto(fd, "w", 1, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
	}
	free(path);
}

/* 1 while the node drains; a spool that cannot say is taken as running (the slots' own
 * transactions check the drain again). */
static int firer_draining(struct firer *r)
{
	char *err = NULL;
	int draining = 0;

	if (spool_drain_get(r->sp, &draining, &err) != 0) {
		log_warn("schedules: %s", err);
		free(err);
		return 0;
	}
	return draining;
}

/* 1 while the worker finds its Consul requests refused by the ACL (setting consul.denied): the
 * firer waits meanwhile, as the worker's other Consul work does, rather than ask in vain. */
static int firer_acl_refused(struct firer *r)
{
	char *value = NULL;
	int rc = spool_setting_get(r->sp, SETTINGS_CONSUL_DENIED, &value, NULL);

	free(value);
	return rc == 0;
}

/* Says once when the firer's requests start or stop being refused by the ACL (Consul's own text
 * is the worker's to log). */
static void firer_say_denied(int *was, int now)
{
	if (now && !*was)
		log_warn("schedules: the firer's requests are refused by Consul's ACL; it tries "
			 "again every second");
	else if (!now && *was)
		log_info("schedules: the firer's requests are accepted again");
	*was = now;
}

/* The slots whose claim a lost node left behind (schedorphan.h): at each takeover and at most
 * every SCHEDORPHAN_PERIOD_MS while holding the lock, so the cost stays one read per schedule
 * with a last job (and per watched claim) per period. A failed sweep waits for the next one. */
static void firer_sweep(struct firer *r)
{
	char *err = NULL;
	int rc;

	if (r->session == NULL || (r->sweep_at != 0 && clock_mono_ms() < r->sweep_at))
		return;
	r->sweep_at = clock_mono_ms() + SCHEDORPHAN_PERIOD_MS;
	rc = firer_quiet(r,
			 schedorphan_sweep(&r->watch, r->c, r->cfg->consul_namespace, r->session,
					   (size_t)r->cfg->max_schedules, r->sp, NULL, &err),
			 &err);
	if (rc != 0 && err != NULL)
		log_warn("schedules: orphaned claims: %s", err);
	free(err);
}

/* One round while holding the lock. */
static void firer_fire(struct firer *r, struct schedfire *f)
{
	char *err = NULL;

	free(r->session);
	r->session = NULL;
	if (spool_setting_get(r->sp, SETTINGS_CONSUL_SESSION, &r->session, &err) != 0 &&
	    err != NULL) {
		log_debug("schedules: %s", err);
		free(err);
	}
	/* before the slots: a takeover's catch-up moves the schedules' lastJob past an orphan */
	firer_sweep(r);
	for (int i = 0; i < FIRER_RETRIES && schedfire_round(f, 0) == FS_ESTATE; i++)
		;
	if (r->queued > 0)
		firer_wake(r->cfg);
	r->queued = 0;
}

/* The firer's loop until SIGTERM; its exit status. */
static int firer_main(const struct config *cfg)
{
	struct firer r = { .cfg = cfg };
	struct schedfire f;
	struct schedlock l;
	struct pollfd pfd;
	sigset_t mask;
	char *err = NULL;
	int flags, held = 0, denied = 0, have_f = 0, have_l = 0, status = 1, sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_error("schedules: firer: signalfd: %s", strerror(errno));
		goto out;
	}
	flags = (cfg->spool_sync == CONFIG_SYNC_NORMAL ? SPOOL_SYNC_NORMAL : 0) | SPOOL_OUTBOX;
	if (consul_global_init(&err) != 0 || spool_open(&r.sp, cfg->spool, flags, &err) != 0 ||
	    proc_stat(getpid(), &r.start, NULL) != 0 ||
	    claimlog_open(&r.journal, cfg->spool, getpid(), r.start, &err) != 0 ||
	    schedfire_init_store(&f, cfg, r.sp, &consul_store, &r, &err) != 0) {
		log_error("schedules: firer: %s", err != NULL ? err : "no start time in /proc");
		goto out;
	}
	have_f = 1;
	r.c = consul_new(cfg, CONSUL_SUBMIT_TIMEOUT_MS);
	schedlock_init(&l, r.c, cfg->consul_namespace, cfg->consul_name);
	have_l = 1;
	for (;;) {
		int wait;

		if (firer_draining(&r)) {
			if (l.session != NULL)
				schedlock_release(&l);
			held = 0;
			wait = SCHEDCFIRE_READ_MS;
		} else if (firer_acl_refused(&r)) {
			wait = SCHEDCFIRE_READ_MS;
		} else {
			r.denied = 0;
			if (schedlock_round(&l) && !held) {
				f.reload = 1; /* the schedules as they are now */
				r.sweep_at = 0;
			}
			if ((held = l.held))
				firer_fire(&r, &f);
			firer_say_denied(&denied, r.denied || l.denied);
			wait = schedlock_wait_ms(&l, SCHEDCFIRE_READ_MS);
			if (held)
				wait = schedfire_poll_ms(&f, wait);
		}
		pfd.fd = sfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, wait) > 0)
			break; /* SIGTERM or SIGINT */
	}
	status = 0;
out:
	if (have_l)
		schedlock_free(&l); /* the lock goes at once: another node fires */
	if (have_f)
		schedfire_free(&f);
	schedorphan_free(&r.watch);
	claimlog_close(r.journal); /* nothing is in flight between rounds */
	consul_free(r.c);
	spool_close(r.sp);
	free(r.session);
	free(err);
	if (sfd >= 0)
		close(sfd);
	return status;
}

/* The keeper: starts the firer and, when it dies, starts it again SCHEDCFIRE_RESTART_MS after
 * its last start, until SIGTERM (passed on to the firer, then waited for). It opens nothing
 * itself, so each firer is forked from a process with no spool open. Its exit status. */
static int keeper_main(const struct config *cfg)
{
	struct signalfd_siginfo si;
	struct pollfd pfd;
	sigset_t mask;
	int64_t started = 0;
	pid_t keeper = getpid(), pid = 0;
	int st, stop = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((pfd.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_error("schedules: firer: signalfd: %s", strerror(errno));
		return 1;
	}
	pfd.events = POLLIN;
	while (!stop) {
		int64_t wait = started + SCHEDCFIRE_RESTART_MS - clock_mono_ms();

		if (pid == 0 && wait <= 0) {
			started = clock_mono_ms();
			if ((pid = fork()) == 0) {
				close(pfd.fd);
				if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != keeper)
					_exit(1);
				_exit(firer_main(cfg));
			}
			if (pid < 0) {
				log_error("schedules: cannot start the firer: %s", strerror(errno));
				pid = 0;
			}
			continue;
		}
		if (poll(&pfd, 1, pid != 0 ? -1 : (int)wait) > 0)
			while (read(pfd.fd, &si, sizeof si) == (ssize_t)sizeof si)
				stop |= si.ssi_signo != SIGCHLD;
		if (pid != 0 && waitpid(pid, &st, WNOHANG) == pid) {
			if (!stop)
				log_warn("schedules: the firer (pid %ld) %s %d", (long)pid,
					 WIFSIGNALED(st) ? "was killed by signal"
							 : "exited with status",
					 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			pid = 0;
		}
	}
	if (pid != 0) {
		(void)kill(pid, SIGTERM);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(pfd.fd);
	return 0;
}

void schedcfire_start(struct schedcfire *x, const struct config *cfg)
{
	pid_t parent = getpid(), pid;

	x->pid = 0;
	if (cfg->no_consul)
		return;
	if ((pid = fork()) < 0) {
		log_error("schedules: cannot start the firer: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		/* nothing of the worker's but stdio: not its spool lock or socket; and none of its
		 * capabilities (those are for starting runs as their users) */
		(void)close_range(3, ~0U, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(1);
		if (privdrop_caps_clear() != 0) {
			log_error("schedules: the firer cannot give up its capabilities: %s",
				  strerror(errno));
			_exit(1);
		}
		_exit(keeper_main(cfg));
	}
	x->pid = pid;
}

void schedcfire_stop(struct schedcfire *x)
{
	if (x->pid <= 0)
		return;
	(void)kill(x->pid, SIGTERM);
	while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
		;
	x->pid = 0;
}
