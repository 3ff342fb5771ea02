/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's runs (see dispatch.h). Order of a start: claim (WORKING/RUNNING committed) -> the
 * go record (its flush started) -> fork the supervisor, which prepares the run (a fresh run
 * directory, its own pid file, its go slot opened) and waits -> meanwhile the go record's flush ->
 * the go byte -> later, the command line and pid in the spool. The supervisor starts the runner
 * only after its pid file is written, the go byte has come and its went mark is written
 * (outcome.h). The go record, not the claim, is a run's commit point: with --spool-sync full and
 * no Consul the claim's commit does not wait for the disk -- it gets there with the next commit
 * that waits (an outcome, a submission) -- so that the go record's flush is the only one between a
 * claim and the runner's exec, and it is waited for while the supervisor prepares, the worker
 * having nothing else to do until the go byte. A power loss that takes back the claim and not the
 * go record leaves a QUEUED job that the next worker claims again from the record
 * (dispatch_reclaim) and settles as any run whose supervisor is gone; one that takes both back
 * never started a runner. With Consul the claim is durable at its commit, before Consul hears of
 * it (a claim lost while Consul already says WORKING would be taken for a lost one). A worker that
 * dies before the go byte leaves a supervisor that exits having started nothing and no went mark;
 * a run that starts can always be found by the next worker through the pid file. So "no status and
 * no live supervisor" always means the run is over, and without a go record, or with one of this
 * boot its supervisor never marked, it never began: the job goes back to its place in the queue
 * (dispatch_requeue) instead of failing for nothing; otherwise "worker-lost" (or, for a supervisor
 * this worker watched, "supervisor-lost") is a proven outcome. And since a supervisor holds the
 * worker's lock until its go byte, no restarted worker looks at the spool before an abandoned
 * supervisor has finished with its files and exited (supervisor.c).
 *
 * Recording the run in the spool is no part of that proof (recovery reads the pid file, never the
 * spool's pid), so it comes DISPATCH_DETAILS_MS after the go byte, once the runner has started
 * (dispatch_details), or with the outcome: off the path from a submit to the runner's exec, where
 * a transaction would compete for the processor with the supervisor; a worker that dies before
 * leaves the details to the next one (dispatch_record_late). The file work of a start is the
 * supervisor's, not the worker's: the worker is one process for all runs, and creating files in
 * runs/ is most of what a start costs it (bench/README). The pid file is written in place, without
 * fsync: it matters only while the machine is up -- after a machine crash no supervisor survives
 * -- and it is whole before the run can start, so one that is missing or torn reads as "gone",
 * which is then the truth (outcome.h). */
#define _GNU_SOURCE
#include "dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "factcopy.h"
#include "fault.h"
#include "log.h"
#include "outcome.h"
#include "rundir.h"
#include "proc.h"
#include "runcmd.h"
#include "runenv.h"
#include "settings.h"
#include "spool.h"
#include "statesync.h"
#include "supervisor.h"
#include "xalloc.h"

static int dispatch_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int dispatch_init(struct worker *w, const struct config *cfg, struct spool *sp, int lockfd)
{
	const char *env = getenv(SUPERVISOR_GRACE_ENV);
	const char *sep = strcmp(cfg->spool, "/") == 0 ? "" : "/";
	char *spare;
	struct stat a, b;

	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->sp = sp;
	w->runs_dir = xstrdup(cfg->run_root);
	w->logs_dir = xasprintf("%s%slogs", cfg->spool, sep);
	w->factfiles_dir = xasprintf("%s%sfactfiles", cfg->spool, sep);
	w->grace_ms = SUPERVISOR_GRACE_MS;
	w->lockfd = lockfd;
	if (env != NULL && *env != '\0')
		w->grace_ms = atoi(env) > 0 ? atoi(env) : 0;
	w->runner_missing = -1;
	/* factfiles/ lets nobody else in: the run user passes through its group (worker/main.c) */
	if (dispatch_mkdir(w->runs_dir, 0755) != 0 || dispatch_mkdir(w->logs_dir, 0755) != 0 ||
	    dispatch_mkdir(w->factfiles_dir, 0750) != 0) {
		return -1;
	}
	/* without it every go record counts as written in another boot: a run stopped before its
	 * runner started then fails worker-lost instead of running again (outcome.h) */
	if (proc_boot_id(w->boot, sizeof(w->boot)) != 0)
		log_warn("cannot read this boot's id: a run stopped before its runner started will "
			 "be taken for one that may have begun");
	/* one go slot per run that may be watched at once (dispatch_pick_slot), made here, off the
	 * path of every run */
	if (outcome_go_make(w->runs_dir, cfg->max_workers, cfg->spool_sync != CONFIG_SYNC_NORMAL) !=
	    0) {
		log_error("cannot make the go slots in %s/go: %s", w->runs_dir, strerror(errno));
		return -1;
	}
	/* spares are renamed into the run root: the pool must be on its filesystem */
	if (stat(cfg->spool, &a) == 0 && stat(w->runs_dir, &b) == 0 && a.st_dev != b.st_dev) {
		spare = xasprintf("%s/spare", w->runs_dir);
	} else {
		spare = xasprintf("%s%sspare", cfg->spool, sep);
		w->factcopy_pool = &w->spares; /* on the filesystem of factfiles/ too */
	}
	/* an unusable pool only means runs create and remove their own files */
	if (spares_init(&w->spares, spare) != 0)
		log_warn("cannot use %s: %s", spare, strerror(errno));
	free(spare);
	return 0;
}

void dispatch_free(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nruns; i++) {
		if (w->runs[i].pidfd >= 0)
			close(w->runs[i].pidfd);
		free(w->runs[i].id);
		free(w->runs[i].factfile_sha);
		free(w->runs[i].cmd);
	}
	free(w->runs);
	free(w->runs_dir);
	free(w->logs_dir);
	free(w->factfiles_dir);
	spares_free(&w->spares);
	memset(w, 0, sizeof(*w));
}

static struct watched_run *dispatch_add(struct worker *w, const struct spool_job *job)
{
	struct watched_run *r;

	w->runs = xgrow_by_one(w->runs, w->nruns, sizeof(*w->runs));
	r = &w->runs[w->nruns++];
	memset(r, 0, sizeof(*r));
	r->id = xstrdup(job->id);
	r->token = job->started_ms;
	r->pidfd = -1;
	r->slot = -1;
	r->factfile_sha = job->factfile_sha != NULL ? xstrdup(job->factfile_sha) : NULL;
	return r;
}

static void dispatch_remove(struct worker *w, size_t i)
{
	if (w->runs[i].pidfd >= 0)
		close(w->runs[i].pidfd);
	free(w->runs[i].id);
	free(w->runs[i].factfile_sha);
	free(w->runs[i].cmd);
	memmove(&w->runs[i], &w->runs[i + 1], (w->nruns - i - 1) * sizeof(*w->runs));
	w->nruns--;
}

/* Replaces the job's log with one line (for runs that never reached a runner). */
static void dispatch_log_line(struct worker *w, const char *id, const char *text)
{
	char *path = xasprintf("%s/%s.log", w->logs_dir, id);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd >= 0) {
		(void)!write(fd, text, strlen(text));
		close(fd);
	}
	free(path);
}

/* A settled run's working directory (kept with --keep-run-dirs until its job is pruned). Its
 * supervisor removes it before exiting: here it is normally gone already, and this finishes a
 * removal the supervisor could not (killed meanwhile, or a run that never started). */
static void dispatch_rundir_remove(struct worker *w, const char *id)
{
	char *dir = xasprintf("%s/%s", w->runs_dir, id);

	if (rundir_remove(dir) != 0)
		log_warn("job %s: %s could not be removed", id, dir);
	free(dir);
}

/* 1 when r's run may have begun (outcome_go_begun): a go record names it -- in r's slot, or,
 * for a run this worker did not start, in whichever slot has it (r then holds that slot until it
 * is settled) -- and either its went mark names it too or the record is of another boot. A slot
 * that cannot be read names nothing, as a missing one. */
static int dispatch_run_begun(struct worker *w, struct watched_run *r)
{
	struct run_go *gs = NULL, g;
	size_t n = 0, i;

	if (r->slot < 0 && outcome_go_list(w->runs_dir, &gs, &n) == 0) {
		for (i = 0; i < n && r->slot < 0; i++)
			if (strcmp(gs[i].id, r->id) == 0 && gs[i].run == r->token)
				r->slot = gs[i].slot;
		free(gs);
	}
	return r->slot >= 0 && outcome_go_read(w->runs_dir, r->slot, &g) == 0 &&
	       strcmp(g.id, r->id) == 0 && g.run == r->token && outcome_go_begun(&g, w->boot);
}

/* Clears r's go record, when its slot holds one naming r's run, durably with --spool-sync full:
 * a run that never began goes back to the queue keeping its submission, which the record must
 * then no longer name (dispatch_reclaim). 0, or -1 with errno. */
static int dispatch_go_clear(struct worker *w, const struct watched_run *r)
{
	struct run_go g;

	if (r->slot < 0 || outcome_go_read(w->runs_dir, r->slot, &g) != 0 ||
	    strcmp(g.id, r->id) != 0 || g.run != r->token)
		return 0;
	return outcome_go_clear(w->runs_dir, r->slot, w->cfg->spool_sync != CONFIG_SYNC_NORMAL);
}

/* A run whose runner never started (no status, no live supervisor, and no go record or one its
 * supervisor never marked, in this boot): its job goes back to its place in the queue, its go
 * record cleared first, and runs again -- unless it was asked to be cancelled meanwhile, then it
 * is cancelled (dispatch_settle). 1 when done with r, 0 when the spool or the slot could not take
 * it (tried again later). */
static int dispatch_settle(struct worker *w, struct watched_run *r);
static int dispatch_requeue(struct worker *w, struct watched_run *r)
{
	char *err = NULL, *key = settings_key(SETTINGS_CANCEL_PREFIX, r->id), *when = NULL;
	int rc;

	rc = spool_setting_get(w->sp, key, &when, &err);
	free(key);
	if (rc == FS_ENOENT) {
		rc = 0; /* no request */
		free(err);
		err = NULL;
	}
	if (rc == 0 && when != NULL && strtoll(when, NULL, 10) >= r->token) {
		free(when);
		snprintf(r->reason, sizeof(r->reason), "cancelled");
		return dispatch_settle(w, r);
	}
	free(when);
	if (rc == 0 && dispatch_go_clear(w, r) != 0) {
		log_warn("job %s: not put back in the queue yet: its go record in %s/go: %s", r->id,
			 w->runs_dir, strerror(errno));
		return 0;
	}
	if (rc == 0)
		rc = spool_requeue(w->sp, r->id, r->token, &err);
	if (rc != 0 && rc != FS_ENOENT && rc != FS_ESTATE) {
		log_warn("job %s: not put back in the queue yet: %s", r->id, err);
		free(err);
		return 0;
	}
	if (rc == 0)
		log_info("job %s: its runner never started: queued again", r->id);
	else
		log_warn("job %s: %s", r->id, err); /* settled by someone else */
	outcome_recycle(&w->spares, w->runs_dir, r->id);
	factcopy_release(w->sp, w->factfiles_dir, r->factfile_sha, w->factcopy_pool);
	if (!w->cfg->keep_run_dirs)
		dispatch_rundir_remove(w, r->id);
	free(err);
	return 1;
}

/* The outcome of r into the spool, then its files are removed. Its cancel request is cleared in
 * the same transaction -- one commit (and, with --spool-sync full, one fsync) per run, not two;
 * deleting a key that is not there writes nothing. 1 when done with r, 0 when the spool could not
 * take it (tried again later). */
static int dispatch_settle(struct worker *w, struct watched_run *r)
{
	struct run_status st;
	char *err = NULL, *key = settings_key(SETTINGS_CANCEL_PREFIX, r->id);
	int have_status, done = 0, rc;

	have_status = r->reason[0] == '\0' && outcome_status_read(w->runs_dir, r->id, &st) == 0 &&
		      st.run == r->token;
	if (have_status && fault_at("worker.before-outcome") != 0)
		goto out; /* as if the spool could not take it: tried again */
	/* no status, no live supervisor and no go record or one never marked: the runner never
	 * started */
	if (!have_status && r->reason[0] == '\0' && !dispatch_run_begun(w, r)) {
		free(err);
		free(key);
		return dispatch_requeue(w, r);
	}
	/* without a status for this run the supervisor ended (killed, or its disk was full) after
	 * its went mark: the run may have begun, is over, and nothing else will ever report it */
	if (!have_status && r->reason[0] == '\0')
		snprintf(r->reason, sizeof(r->reason), "supervisor-lost");
	if ((rc = spool_begin(w->sp, &err)) == 0) {
		/* ended before its details were due: recorded with its outcome (no longer WORKING,
		 * someone else settled it: nothing to record) */
		if (r->cmd != NULL)
			(void)spool_record_run(w->sp, r->id, r->cmd, r->pid, NULL);
		rc = have_status ? outcome_record(w->sp, r->id, &st, &err)
				 : outcome_record_failure(w->sp, r->id, r->reason, &err);
		if (rc == 0 || rc == FS_ENOENT || rc == FS_ESTATE) {
			/* ENOENT, ESTATE: no longer WORKING, someone else settled it */
			if (rc != 0)
				log_warn("job %s: %s", r->id, err);
			(void)spool_setting_set(w->sp, key, NULL, NULL);
			done = spool_commit(w->sp, &err) == 0;
		} else {
			spool_rollback(w->sp);
		}
	}
	if (!done && spool_reserve_give_back(w->sp)) {
		/* once: the reserve is gone now */
		log_warn("job %s: the disk is full, the spool's reserve is given back", r->id);
		free(err);
		free(key);
		return dispatch_settle(w, r);
	}
	if (!done) {
		log_warn("job %s: outcome not recorded yet: %s", r->id, err);
		goto out;
	}
	if (rc == 0 && have_status)
		log_info("job %s: exit %d signal %d%s%s", r->id, st.exit_code, st.exit_signal,
			 st.reason[0] != '\0' ? ", " : "", st.reason);
	else if (rc == 0)
		log_warn("job %s: FAILED (%s)", r->id, r->reason);
	outcome_recycle(&w->spares, w->runs_dir, r->id);
	factcopy_release(w->sp, w->factfiles_dir, r->factfile_sha, w->factcopy_pool);
	if (rc == 0 && !w->cfg->keep_run_dirs)
		dispatch_rundir_remove(w, r->id);
out:
	free(err);
	free(key);
	return done;
}

/* Settles run i and forgets it when that worked. */
static void dispatch_end(struct worker *w, size_t i)
{
	struct watched_run *r = &w->runs[i];

	if (r->pidfd >= 0) {
		close(r->pidfd);
		r->pidfd = -1;
	}
	if (r->child && r->pid > 0) {
		(void)waitpid(r->pid, NULL, 0); /* it has exited: this does not block */
		r->child = 0;
	}
	if (dispatch_settle(w, r))
		dispatch_remove(w, i);
}

void dispatch_details(struct worker *w)
{
	int64_t now = clock_mono_ms();
	char *err = NULL;
	size_t i, due = 0;

	for (i = 0; i < w->nruns; i++)
		due += w->runs[i].cmd != NULL && w->runs[i].details_at <= now;
	if (due == 0)
		return;
	/* a spool too busy for them does not stop the runs (each is settled as any other); only
	 * the details are missing. They need not wait for the disk: no recovery reads them (the
	 * header), and the runs' settling commits flush them. */
	(void)spool_defer_sync(w->sp, NULL);
	if (spool_begin(w->sp, &err) == 0) {
		for (i = 0; i < w->nruns; i++)
			if (w->runs[i].cmd != NULL && w->runs[i].details_at <= now)
				(void)spool_record_run(w->sp, w->runs[i].id, w->runs[i].cmd,
						       w->runs[i].pid, NULL);
		if (spool_commit(w->sp, &err) != 0)
			spool_rollback(w->sp);
	}
	(void)spool_resume_sync(w->sp, 0, NULL);
	if (err != NULL)
		log_warn("the details of %zu run(s) not recorded: %s", due, err);
	for (i = 0; i < w->nruns; i++) {
		if (w->runs[i].cmd != NULL && w->runs[i].details_at <= now) {
			free(w->runs[i].cmd);
			w->runs[i].cmd = NULL;
		}
	}
	free(err);
}

int dispatch_poll_ms(const struct worker *w, int max_ms)
{
	int64_t now = clock_mono_ms(), wait;
	size_t i;

	for (i = 0; i < w->nruns; i++) {
		if (w->runs[i].cmd == NULL)
			continue;
		wait = w->runs[i].details_at > now ? w->runs[i].details_at - now : 0;
		if (max_ms < 0 || wait < max_ms)
			max_ms = (int)wait;
	}
	return max_ms;
}

void dispatch_retry(struct worker *w)
{
	size_t i;

	/* runs whose supervisor ended but whose outcome is still to be stored; backwards, so
	 * that removing one leaves the indices still to visit alone */
	for (i = w->nruns; i-- > 0;)
		if (w->runs[i].pidfd < 0)
			dispatch_end(w, i);
}

/* 1 when the runner is an executable regular file; publishes a change in worker.runner. */
static int dispatch_runner_ok(struct worker *w)
{
	struct stat st;
	char *err = NULL;
	int missing = stat(w->cfg->factotum_bin, &st) != 0 || !S_ISREG(st.st_mode) ||
		      access(w->cfg->factotum_bin, X_OK) != 0;

	if (missing != w->runner_missing) {
		if (spool_setting_set(w->sp, SETTINGS_WORKER_RUNNER, missing ? "missing" : "ok",
				      &err) == 0)
			w->runner_missing = missing;
		else
			free(err);
		if (missing)
			log_error("the runner %s is missing or not executable",
				  w->cfg->factotum_bin);
	}
	return !missing;
}

/* A start from its claim to its go byte (see the order at the top of this file). */
struct dispatch_start {
	pid_t pid;        /* the supervisor, 0 if none was forked */
	int gofd;         /* the write end of its go pipe, -1 if none */
	char *cmd;        /* the runner's command line as JSON (owned), NULL if none */
	const char *fail; /* why the run cannot start (its reason in the spool), NULL if it can */
	uid_t uid;        /* the run's own uid (--run-uid-range), 0 if none */
	int slot;         /* its go slot, -1 if none */
	int recfd;        /* that slot, open, its go record written; -1 if none */
};

/* With --run-uid-range, the lowest uid of the range that no watched run holds (there is one:
 * the range has at least --max-workers uids, and a run is only started below that many), else
 * the run user's. A uid is held until its run is settled, and the supervisor has ended every
 * process of the run before that. */
static uid_t dispatch_pick_uid(const struct worker *w)
{
	unsigned int u;
	size_t i;

	if (w->cfg->run_uid_first == 0)
		return w->runas->uid;
	for (u = w->cfg->run_uid_first; u < w->cfg->run_uid_last; u++) {
		for (i = 0; i < w->nruns && w->runs[i].uid != (uid_t)u; i++)
			;
		if (i == w->nruns)
			break;
	}
	return (uid_t)u;
}

/* The lowest go slot no watched run holds: one of those dispatch_init made, since a run is only
 * started while fewer than --max-workers are watched. */
static int dispatch_pick_slot(const struct worker *w)
{
	size_t i;
	int slot;

	for (slot = 0;; slot++) {
		for (i = 0; i < w->nruns && w->runs[i].slot != slot; i++)
			;
		if (i == w->nruns)
			return slot;
	}
}

/* Writes the run's go record into its slot (outcome.h), with --spool-sync full started on its
 * way to the disk: before the fork, so that dispatch_go's wait for the flush, while the
 * supervisor prepares the run, is short and the go byte is there when the supervisor is ready.
 * The slot, open (the caller closes it), or -1 with a message in the worker's log. */
static int dispatch_go_record(struct worker *w, const struct spool_job *job, int slot)
{
	int durable = w->cfg->spool_sync != CONFIG_SYNC_NORMAL;
	int fd = outcome_go_open(w->runs_dir, slot, durable);
	struct run_go g;

	memset(&g, 0, sizeof(g));
	snprintf(g.id, sizeof(g.id), "%s", job->id);
	g.seq = job->seq;
	g.submitted_ms = job->created_ms;
	g.run = job->started_ms;
	memcpy(g.boot, w->boot, sizeof(g.boot));
	if (fd >= 0 && outcome_go_write(fd, &g, durable) == 0)
		return fd;
	log_error("job %s: cannot write its go record in %s/go/%d: %s", job->id, w->runs_dir, slot,
		  strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Forks the claimed job's supervisor, which prepares the run and waits for its go byte; sets
 * s->fail when there is none. The strings lent to the supervisor are freed here: it has its own
 * copy once supervisor_spawn returns. */
static void dispatch_spawn(struct worker *w, const struct spool_job *job, struct dispatch_start *s)
{
	struct supervisor_args a;
	struct runas ra = *w->runas; /* the supervisor's copy is its own once forked */
	char **argv = NULL, **envp = NULL, *err = NULL, *dir = NULL, *log = NULL, *msg;
	char *factfile = NULL;
	/* lent to the supervisor, which renames them (spares.h) */
	char *spare_pid = NULL, *spare_status = NULL, *spare_dir = NULL;
	char *next_spare_dir = NULL;

	if (!dispatch_runner_ok(w)) {
		msg = xasprintf("factotum-server-worker: the runner '%s' is missing or not "
				"executable\n",
				w->cfg->factotum_bin);
		dispatch_log_line(w, job->id, msg);
		free(msg);
		s->fail = "runner-missing";
		goto out;
	}
	/* the bytes validated at /submit, never factfilePath again (a job queued before the spool
	 * kept them runs its path) */
	if (job->factfile_sha != NULL &&
	    factcopy_ensure(w->sp, w->factfiles_dir, job->factfile_sha,
			    w->runas->active ? w->runas->gid : (gid_t)-1, w->factcopy_pool,
			    &factfile, &err) != 0) {
		log_error("job %s: the validated factfile: %s", job->id, err);
		msg = xasprintf("factotum-server-worker: the validated factfile could not be "
				"given to the run: %s\n",
				err);
		dispatch_log_line(w, job->id, msg);
		free(msg);
		s->fail = "factfile-unavailable";
		goto out;
	}
	if (runcmd_build(w->cfg, factfile != NULL ? factfile : job->factfile_path,
			 job->factfile_args, &argv, &err) != 0) {
		log_error("job %s: %s", job->id, err);
		s->fail = "bad-request";
		goto out;
	}
	s->cmd = runcmd_json(argv);
	dir = xasprintf("%s/%s", w->runs_dir, job->id);
	log = xasprintf("%s/%s.log", w->logs_dir, job->id);
	envp = runenv_build(w->cfg, dir, w->runas->name);
	/* an earlier run's files must never count; gone before the supervisor writes its own */
	outcome_recycle(&w->spares, w->runs_dir, job->id);
	memset(&a, 0, sizeof(a));
	a.id = job->id;
	a.run = job->started_ms;
	a.go_slot = s->slot = dispatch_pick_slot(w);
	a.argv = argv;
	a.envp = envp;
	ra.uid = dispatch_pick_uid(w);
	s->uid = w->cfg->run_uid_first > 0 ? ra.uid : 0;
	a.runas = &ra;
	a.max_processes = w->cfg->run_max_processes;
	a.max_memory = w->cfg->run_max_memory;
	a.max_open_files = w->cfg->run_max_open_files;
	a.run_dir = dir;
	a.log_path = log;
	a.status_dir = w->runs_dir;
	a.timeout_s = w->cfg->job_timeout;
	a.grace_ms = w->grace_ms;
	a.log_max = (size_t)w->cfg->log_max_bytes;
	a.durable = w->cfg->spool_sync != CONFIG_SYNC_NORMAL;
	a.keep_run_dir = w->cfg->keep_run_dirs;
	a.lockfd = w->lockfd;
	a.spare_pid = spare_pid = spares_take(&w->spares);
	a.spare_status = spare_status = spares_take(&w->spares);
	a.spare_dir = spare_dir = spares_take_dir(&w->spares, (size_t)w->cfg->max_workers);
	a.next_spare_dir = next_spare_dir =
		spares_reserve_dir(&w->spares, (size_t)w->cfg->max_workers);
	if ((s->recfd = dispatch_go_record(w, job, s->slot)) < 0) {
		s->fail = "spawn-failed";
		goto out;
	}
	if (supervisor_spawn(&a, &s->pid, &s->gofd) != 0) {
		log_error("job %s: fork: %s", job->id, strerror(errno));
		s->fail = "spawn-failed";
	}
out:
	runcmd_free(argv);
	runcmd_free(envp);
	free(err);
	free(factfile);
	free(dir);
	free(log);
	free(spare_pid);
	free(spare_status);
	free(spare_dir);
	free(next_spare_dir);
}

/* Watches the prepared run's supervisor, waits for its go record to be on the disk and lets the
 * run start (the go byte); sets s->fail when the run could not be let go. */
static void dispatch_go(struct worker *w, const struct spool_job *job, struct dispatch_start *s)
{
	struct watched_run *r;
	int pidfd;

	if ((pidfd = pidfd_open(s->pid, 0)) < 0) {
		log_error("job %s: cannot watch its supervisor: %s", job->id, strerror(errno));
		s->fail = "spawn-failed";
		return;
	}
	if (outcome_go_flush(s->recfd, w->cfg->spool_sync != CONFIG_SYNC_NORMAL) != 0) {
		log_error("job %s: cannot write its go record in %s/go/%d: %s", job->id,
			  w->runs_dir, s->slot, strerror(errno));
		close(pidfd);
		s->fail = "spawn-failed";
		return;
	}
	if (fault_at("worker.before-go") != 0 || write(s->gofd, "g", 1) != 1) {
		close(pidfd);
		s->fail = "spawn-failed";
		return;
	}
	r = dispatch_add(w, job);
	r->pid = s->pid;
	r->pidfd = pidfd;
	r->child = 1;
	r->uid = s->uid;
	r->slot = s->slot;
	log_info("job %s: started %s (supervisor %ld)", job->id, s->cmd, (long)s->pid);
	/* the run has begun; its details (command line, pid) go into the spool a moment later,
	 * once its runner has started (dispatch_details), or with its outcome if it ends first:
	 * a transaction now would compete for the processor with the supervisor on its way to
	 * the exec */
	r->cmd = s->cmd;
	s->cmd = NULL;
	r->details_at = clock_mono_ms() + DISPATCH_DETAILS_MS;
}

/* Ends a start: its go pipe closed (unwritten, the supervisor exits having started nothing) and,
 * for a run that could not start, its supervisor reaped and the job settled FAILED. */
static void dispatch_start_end(struct worker *w, const struct spool_job *job,
			       struct dispatch_start *s)
{
	struct watched_run *r;

	if (s->gofd >= 0)
		close(s->gofd);
	if (s->recfd >= 0)
		close(s->recfd);
	if (s->fail != NULL) {
		if (s->pid > 0)
			(void)waitpid(s->pid, NULL, 0);
		/* its log says so rather than show an earlier run's (the supervisor opens the log
		 * only once the runner has started) */
		if (strcmp(s->fail, "spawn-failed") == 0) {
			dispatch_log_line(w, job->id,
					  "factotum-server-worker: the run could not be "
					  "started (see the worker's log)\n");
		}
		/* settled like any run, so a spool too busy to take it now is tried again */
		r = dispatch_add(w, job);
		snprintf(r->reason, sizeof(r->reason), "%s", s->fail);
		dispatch_end(w, w->nruns - 1);
	}
	free(s->cmd);
}

/* Claims the next QUEUED job and starts it. The claim's durability is this function's alone:
 * without Consul the claim's commit does not wait for the disk (the go record is what must be on
 * it before the runner starts: the header); with Consul it is durable at its commit. 0 when a job
 * was claimed (started, lost to another node, or settled as unable to start), -1 when none was
 * (nothing queued, or the spool failed). */
static int dispatch_next(struct worker *w)
{
	struct dispatch_start s = { 0, -1, NULL, NULL, 0, -1, -1 };
	struct spool_job *job = NULL;
	char *err = NULL;
	int rc, lost = 0;

	rc = w->cfg->no_consul ? spool_defer_sync(w->sp, &err) : 0;
	if (rc == 0)
		rc = spool_claim_next(w->sp, w->cfg->consul_name, &job, &err);
	if (rc != 0 && rc != FS_ENOENT)
		log_warn("claim: %s", err);
	if (rc == 0)
		lost = statesync_claimed(job->id) != 0; /* then never started */
	if (rc == 0 && !lost)
		dispatch_spawn(w, job, &s);
	/* the one resume of the defer above, without a flush: the next waiting commit makes the
	 * claim durable */
	(void)spool_resume_sync(w->sp, 0, NULL);
	if (rc == 0 && !lost) {
		if (s.fail == NULL)
			dispatch_go(w, job, &s);
		dispatch_start_end(w, job, &s);
	}
	spool_job_free(job);
	free(err);
	return rc == 0 ? 0 : -1;
}

static void dispatch_reclaim(struct worker *w);
void dispatch_fill(struct worker *w)
{
	(void)dispatch_runner_ok(w); /* keeps worker.runner true even with nothing queued */
	if (!statesync_may_dispatch())
		return; /* the node's Consul entries are being re-acquired (statesync.h) */
	if (w->reclaim_pending)
		dispatch_reclaim(w);
	if (w->reclaim_pending)
		return; /* a lost claim's job could be claimed anew */
	while (w->nruns < (size_t)w->cfg->max_workers && dispatch_next(w) == 0)
		;
}

void dispatch_cancels(struct worker *w)
{
	struct spool_setting *l = NULL;
	struct watched_run *r;
	char *err = NULL;
	size_t n = 0, i, k;
	long long when;

	if (w->nruns == 0)
		return; /* a request for a run not watched is nobody's to act on */
	/* one query for every request, however many runs are watched */
	if (spool_setting_list(w->sp, SETTINGS_CANCEL_PREFIX, &l, &n, &err) != 0) {
		log_warn("cancel requests: %s", err);
		free(err);
		return;
	}
	for (k = 0; k < n; k++) {
		const char *id = settings_key_id(l[k].key, SETTINGS_CANCEL_PREFIX);

		for (i = 0; id != NULL && i < w->nruns; i++)
			if (strcmp(w->runs[i].id, id) == 0)
				break;
		if (id == NULL || i == w->nruns)
			continue;
		r = &w->runs[i];
		if (r->pidfd < 0 || r->cancel_sent)
			continue;
		when = strtoll(l[k].value, NULL, 10);
		if (when < r->token) {
			/* asked of an earlier run that ended meanwhile: not this one's */
			(void)spool_setting_set(w->sp, l[k].key, NULL, NULL);
		} else if (pidfd_send_signal(r->pidfd, SIGUSR1, NULL, 0) == 0) {
			r->cancel_sent = 1;
			log_info("job %s: cancelling", r->id);
		}
	}
	spool_setting_list_free(l, n);
}

/* A worker that died between a run's go byte and spool_record_run left the run's details
 * unrecorded (job->pid is 0): records them now, the supervisor's pid from its pid file and the
 * command line as this worker builds it for the job (the same unless the configuration changed
 * across the restart). */
static void dispatch_record_late(struct worker *w, const struct spool_job *job, pid_t pid)
{
	char **argv = NULL, *cmd, *err = NULL, *factfile = NULL;

	if (job->pid != 0)
		return;
	if (job->factfile_sha != NULL)
		factfile = factcopy_path(w->factfiles_dir, job->factfile_sha);
	if (runcmd_build(w->cfg, factfile != NULL ? factfile : job->factfile_path,
			 job->factfile_args, &argv, &err) == 0) {
		cmd = runcmd_json(argv);
		if (spool_record_run(w->sp, job->id, cmd, pid, &err) != 0)
			log_warn("job %s: run details not recorded: %s", job->id, err);
		free(cmd);
	}
	runcmd_free(argv);
	free(factfile);
	free(err);
}

/* A re-adopted run's own uid: its directory's owner (the supervisor gave it the directory
 * before the run started), when that is in --run-uid-range; else 0. */
static uid_t dispatch_run_uid(const struct worker *w, const char *id)
{
	char *dir = xasprintf("%s/%s", w->runs_dir, id);
	struct stat st;
	uid_t uid = 0;

	if (w->cfg->run_uid_first > 0 && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid >= w->cfg->run_uid_first && st.st_uid <= w->cfg->run_uid_last)
		uid = st.st_uid;
	free(dir);
	return uid;
}

/* Takes back a WORKING job a previous worker left (dispatch_recover says how). */
static void dispatch_take_back(struct worker *w, const struct spool_job *job)
{
	struct watched_run *r = dispatch_add(w, job);
	struct run_status st;
	struct run_pid rp;
	int pidfd = -1;

	if (outcome_status_read(w->runs_dir, r->id, &st) == 0 && st.run == r->token) {
		/* ended while no worker ran */
		if (outcome_pid_read(w->runs_dir, r->id, &rp) == 0 && rp.run == r->token)
			dispatch_record_late(w, job, rp.pid);
	} else if (outcome_pid_read(w->runs_dir, r->id, &rp) == 0 && rp.run == r->token &&
		   (pidfd = pidfd_open(rp.pid, 0)) >= 0 && proc_is(rp.pid, rp.start)) {
		/* alive, and the pidfd names that very process: its start time matched after the
		 * pidfd was opened, so the pid had not been reused */
		dispatch_record_late(w, job, rp.pid);
		r->pid = rp.pid;
		r->pidfd = pidfd;
		/* held even before its record is written: the supervisor may have had its go byte
		 * a moment ago */
		r->slot = rp.slot;
		r->uid = dispatch_run_uid(w, r->id);
		log_info("job %s: re-adopted supervisor %ld", r->id, (long)rp.pid);
		return;
	} else if ((outcome_status_read(w->runs_dir, r->id, &st) != 0 || st.run != r->token) &&
		   dispatch_run_begun(w, r)) {
		/* the status checked again (it may have been written meanwhile); if the run may have
		 * begun it failed; else dispatch_settle queues it again */
		snprintf(r->reason, sizeof(r->reason), "worker-lost");
	}
	if (pidfd >= 0)
		close(pidfd);
	dispatch_end(w, w->nruns - 1);
}

/* Claims again each QUEUED job whose submission a go record names, when its run may have begun
 * -- a power loss took back its claim and not its go record (outcome.h) -- and takes it back as
 * any WORKING job. Only the go slots are read, one record each, never the queue; a record of a
 * settled run is refused by spool_reclaim (not QUEUED, or another submission), and one of this
 * boot whose run was never marked as gone names a run that never began. While a record could
 * not be dealt with, w->reclaim_pending stays set and no job is claimed (dispatch_fill): the one
 * it names must not run again. */
static void dispatch_reclaim(struct worker *w)
{
	struct run_go *gs = NULL;
	struct spool_job *job;
	char *err = NULL;
	size_t n = 0, i;
	int rc, pending = 0;

	if (outcome_go_list(w->runs_dir, &gs, &n) != 0) {
		log_error("cannot read the go slots in %s/go: %s", w->runs_dir, strerror(errno));
		w->reclaim_pending = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!outcome_go_begun(&gs[i], w->boot))
			continue;
		job = NULL;
		rc = spool_reclaim(w->sp, gs[i].id, w->cfg->consul_name, gs[i].run, gs[i].seq,
				   gs[i].submitted_ms, &err);
		if (rc == 0) {
			log_warn("job %s: its claim was lost after its go record was written (a "
				 "power loss): its runner may have started",
				 gs[i].id);
			rc = spool_get(w->sp, gs[i].id, &job, &err);
		}
		if (rc == 0) {
			dispatch_take_back(w, job);
		} else if (rc != FS_ENOENT && rc != FS_ESTATE) {
			log_error("job %s: a lost claim not taken back yet: %s", gs[i].id, err);
			pending = 1;
		}
		spool_job_free(job);
		free(err);
		err = NULL;
	}
	free(gs);
	w->reclaim_pending = pending;
}

void dispatch_recover(struct worker *w)
{
	struct spool_job *jobs = NULL;
	char *err = NULL;
	size_t n = 0, i;

	if (spool_list(w->sp, SPOOL_WORKING, 0, 0, &jobs, &n, &err) != 0) {
		log_error("recovery: %s", err);
		free(err);
		w->reclaim_pending = 1; /* not before the WORKING jobs: tried by dispatch_fill */
		return;
	}
	for (i = 0; i < n; i++)
		dispatch_take_back(w, &jobs[i]);
	spool_job_list_free(jobs, n);
	dispatch_reclaim(w);
	factcopy_prune(w->sp, w->factfiles_dir); /* the copies of runs that ended meanwhile */
}

size_t dispatch_pollfds(const struct worker *w, struct pollfd *pfd, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < w->nruns && k < max; i++) {
		if (w->runs[i].pidfd < 0)
			continue;
		pfd[k].fd = w->runs[i].pidfd;
		pfd[k].events = POLLIN;
		pfd[k].revents = 0;
		k++;
	}
	return k;
}

void dispatch_events(struct worker *w, const struct pollfd *pfd, size_t n)
{
	size_t k, i;

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		for (i = 0; i < w->nruns; i++) {
			if (w->runs[i].pidfd == pfd[k].fd) {
				dispatch_end(w, i);
				break;
			}
		}
	}
}
