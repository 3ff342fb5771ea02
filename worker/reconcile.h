/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's reconciliation with Consul (doc/consul.md), at start and every
 * RECONCILE_PERIOD_MS: (1) the claims of responders that died between their Consul claim and
 * their spool commit, found in their journals (claimlog.h), are undone, and so are the claims a
 * live responder gave up on because their txn got no answer (the spool's
 * SETTINGS_ABANDONED_PREFIX records: Consul may have applied them all the same); an undone claim
 * of a schedule's slot (its txn recorded the slot fired) gets a row in the slot's history, refused
 * with reconrule.h's reason and the undone id, so that the slot is not lost silently; (2) entries
 * Consul lost are written again from the spool. What to do with each is reconrule.h's decision.
 *
 * The cost of a pass is bounded: (1) reads only the journals of dead processes (a live one's is
 * never opened), each at most a few pages, and the abandoned claims (one per /submit that Consul
 * did not answer, each kept RECONCILE_ABANDONED_MS), and writes a kept note with a read and a
 * txn (one per undone slot claim, kept until written); (2) checks the node's QUEUED and WORKING
 * jobs (at most RECONCILE_ACTIVE_MAX) and one page of RECONCILE_PAGE DONE jobs (the next page
 * each pass, round the spool), RECONCILE_PAGE keys per Consul txn. Nothing lists the Consul
 * namespace.
 *
 * One per worker process: module state, as statesync.h. Every function is a no-op with
 * --no-consul (or before reconcile_init). Calls block for at most one Consul timeout each; a pass
 * stops at the first that fails, and the next is a period later. */
#ifndef FS_RECONCILE_H
#define FS_RECONCILE_H

struct config;
struct spool;

/* A stuck claim answers 409 to its id's resubmissions until undone; a pass costs a few Consul
 * calls: every 10 s keeps both small. */
#define RECONCILE_PERIOD_MS    10000
#define RECONCILE_PAGE         64 /* keys per txn of gets (Consul allows 64 ops) */
#define RECONCILE_ACTIVE_MAX   1024
/* An abandoned claim is looked for this long: a txn whose answer never came is applied, if at
 * all, within Consul's own RPC timeouts, well inside this. */
#define RECONCILE_ABANDONED_MS 120000

/* Sets up the module for cfg and the worker's spool sp (both borrowed, outliving the module);
 * its Consul client is its own. */
void reconcile_init(const struct config *cfg, struct spool *sp);
void reconcile_free(void);

/* A pass when one is due (force: now, as at start). */
void reconcile_round(int force);

/* How long the event loop may sleep (at most max_ms) before the next pass is due. */
int reconcile_poll_ms(int max_ms);

#endif
