/* SPDX-License-Identifier: Apache-2.0 */
/* Schedules in the spool (no Consul): their definitions, the last slot each has accounted for,
 * and the history of their slots, with the transaction that turns one slot into one job. Slots
 * are UTC instants in seconds since the epoch; other times are epoch milliseconds. Every function
 * returns 0 or a negative FS_E* code with *errp (if errp) set to a message the caller frees. */
#ifndef FS_SPOOLSCHED_H
#define FS_SPOOLSCHED_H

#include <stddef.h>
#include <stdint.h>

struct spool;
struct spool_submit;

/* The schema's version 7 tables, for core/spool.c's migration from version 6 (one BEGIN
 * IMMEDIATE transaction there). Ends by setting user_version to 7. */
extern const char spoolsched_schema_v7_sql[];

/* History rows kept per schedule: older ones go as new ones are recorded. */
#define SPOOLSCHED_HISTORY_MAX 1000

/* catch_up: slots missed while nothing fired (the worker down): none fires none, last the last
 * one only, N (1..SPOOLSCHED_CATCHUP_MAX) the last N; the others are recorded missed */
#define SPOOLSCHED_CATCHUP_NONE 0
#define SPOOLSCHED_CATCHUP_LAST (-1)
#define SPOOLSCHED_CATCHUP_MAX  100

/* A schedule as stored. Strings are owned by the record (spoolsched_free). */
struct spoolsched {
	char *name; /* ^[A-Za-z0-9._-]{1,64}$, checked by the caller */
	char *cron;
	char *timezone;
	char *job_name;
	char *factfile_path;
	char *factfile_args; /* JSON array text, compact */
	int overlap_skip;    /* 1: "skip", 0: "allow" */
	int catch_up;        /* SPOOLSCHED_CATCHUP_* or 1..SPOOLSCHED_CATCHUP_MAX */
	int paused;
	int64_t created_ms, updated_ms;
	int64_t last_slot;  /* the latest slot accounted for (any result); slots after it are due */
	char *last_job;     /* the job of the latest fired slot, NULL before any */
	int64_t last_fired; /* that slot, 0 before any */
};
void spoolsched_free(struct spoolsched *s);
/* Frees the strings of *s (not s itself) and zeroes it: for a record held in another struct. */
void spoolsched_clear(struct spoolsched *s);
void spoolsched_list_free(struct spoolsched *list, size_t n);

/* Creates or replaces s->name's definition (every field but the state ones). A new schedule
 * starts with last_slot = now_s (slots from its creation on are due) and not paused; a replaced
 * one keeps its last slot, last job, pause and history. */
int spoolsched_set(struct spool *sp, const struct spoolsched *s, int64_t now_s, char **errp);
/* spoolsched_set with a bound (--max-schedules): a new name is refused, FS_EFULL "Error: at most
 * <max> schedules", when max schedules exist already (counted in the same transaction);
 * replacing one is always allowed. max 0: no bound. */
int spoolsched_set_max(struct spool *sp, const struct spoolsched *s, int64_t now_s, size_t max,
		       char **errp);
/* One schedule into *sp_out (spoolsched_free). FS_ENOENT when there is none. */
int spoolsched_get(struct spool *sp, const char *name, struct spoolsched **out, char **errp);
/* Every schedule in name order: an array of *np (NULL when 0), spoolsched_list_free. */
int spoolsched_list(struct spool *sp, struct spoolsched **listp, size_t *np, char **errp);
/* Pauses (1) or resumes (0). Resuming sets last_slot to now_s: the slots of the pause are not
 * due (they are not missed either: nobody asked for them). FS_ENOENT when there is none. */
int spoolsched_pause(struct spool *sp, const char *name, int paused, int64_t now_s, char **errp);
/* Removes the schedule and its history (jobs it fired stay). FS_ENOENT when there is none. */
int spoolsched_delete(struct spool *sp, const char *name, char **errp);

/* What became of a slot. */
enum spoolsched_result {
	SPOOLSCHED_FIRED,
	SPOOLSCHED_SKIPPED, /* overlap "skip": the last fired slot's job is QUEUED or WORKING */
	SPOOLSCHED_REFUSED, /* reason: "drain", "queue full", "invalid: <detail>", "duplicate" */
	SPOOLSCHED_MISSED,  /* nothing fired while it was due */
	SPOOLSCHED_NRESULTS
};
/* "fired", ...; static storage */
const char *spoolsched_result_name(enum spoolsched_result r);

/* One row of a schedule's history. Strings owned (spoolsched_slots_free). */
struct spoolsched_slot {
	int64_t slot;  /* the slot (the latest of a summary row's) */
	int64_t at_ms; /* when it was recorded */
	enum spoolsched_result result;
	char *reason;  /* NULL when none */
	char *job_id;  /* fired: the job; NULL otherwise */
	int64_t count; /* 1, or the number of slots a summary row stands for */
};
void spoolsched_slots_free(struct spoolsched_slot *slots, size_t n);
/* The newest max rows (0: all kept) of name's history, newest first. */
int spoolsched_history(struct spool *sp, const char *name, size_t max,
		       struct spoolsched_slot **slotsp, size_t *np, char **errp);

/* A slot to account for: the schedule and the last_slot the caller read (the compare-and-set
 * fence), the slot, and either the job to queue (sub, built and validated by the caller with the
 * slot's tags; its id fixed by them) or, when it could not be built, why (refusal, "invalid:
 * <detail>"). advance: 1 moves last_slot to slot (a due slot); 0 leaves it (a run-now slot, which
 * is outside the timetable). */
struct spoolsched_fire {
	const char *name;
	int64_t prev_slot;
	int64_t slot;
	int advance;
	const struct spool_submit *sub; /* NULL: refused with refusal */
	const char *refusal;
	size_t max_queued;
};
/* In one spool transaction: checks that name's last_slot is still prev_slot (else FS_ESTATE and
 * nothing is written: another firer accounted for it) and, with advance, sets it to slot; then
 * records the slot as skipped (overlap skip and the last fired job QUEUED or WORKING), refused
 * (f->refusal; "duplicate" when a job of sub's id exists in any state, so that a slot never
 * becomes a second job even after its first finished; "drain"; "queue full"; "user queue full")
 * or fired, queueing sub as spool_enqueue does and making it the schedule's last job. *resultp
 * receives the result. FS_ENOENT when the schedule is gone. */
int spoolsched_fire(struct spool *sp, const struct spoolsched_fire *f,
		    enum spoolsched_result *resultp, char **errp);

/* Slots missed: in one transaction, with the same compare-and-set on prev_slot, records each of
 * slots[0..n) (ascending) missed, then, when more != 0, one row standing for `more` earlier slots
 * (reason spoolsched_more_reason's, its slot the latest of them, more_last), and sets last_slot
 * to new_last. The caller bounds n (catch-up bursts must not write a row a second for a week's
 * outage); more < 0 says at least -more (the caller stopped counting). */
int spoolsched_missed(struct spool *sp, const char *name, int64_t prev_slot, const int64_t *slots,
		      size_t n, int64_t more, int64_t more_last, int64_t new_last, char **errp);

/* The summary row's reason: "<more> more slots missed", or for more < 0 "at least <-more> more
 * slots missed" (its count is -more). A new string. */
char *spoolsched_more_reason(int64_t more);

/* For slots accounted for elsewhere (in Consul: core/schedconsul.h), on this node's spool.
 * spoolsched_admit: whether sub would be queued now, decided by spool_enqueue's own checks in a
 * transaction rolled back: *refusalp NULL, or the refusal spoolsched_fire would record ("drain",
 * "duplicate", "queue full", "user queue full"; static). 0 or the spool's failure.
 * spoolsched_count: adds one slot of result to the counters below, in one transaction that, with
 * sub (a fired slot), also queues sub as spool_enqueue does (its codes; a refusal counts
 * nothing and *refusalp, if refusalp, is its reason as above, else NULL). */
int spoolsched_admit(struct spool *sp, const struct spool_submit *sub, size_t max_queued,
		     const char **refusalp, char **errp);
int spoolsched_count(struct spool *sp, enum spoolsched_result result,
		     const struct spool_submit *sub, size_t max_queued, const char **refusalp,
		     char **errp);
/* Adds n slots of result to the counters below, alone (Consul's missed slots, recorded in a txn
 * of the firer's). */
int spoolsched_count_add(struct spool *sp, enum spoolsched_result result, int64_t n, char **errp);

/* Slots by result since the spool was made, never going down (history pruning included). */
int spoolsched_counts(struct spool *sp, int64_t counts[SPOOLSCHED_NRESULTS], char **errp);

/* A number that grows with every change of a definition (set, pause, resume, delete) and not
 * with a slot's own writes: the definitions need reading again only when it moved. */
int spoolsched_changes(struct spool *sp, int64_t *np, char **errp);

/* History rows recorded before before_ms go (the job retention's age), in one transaction; the
 * per-schedule bound is kept as rows are added. *np (if np) receives the number removed. */
int spoolsched_prune(struct spool *sp, int64_t before_ms, int64_t *np, char **errp);

#endif
