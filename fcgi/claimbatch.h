/* SPDX-License-Identifier: Apache-2.0 */
/* Batched first attempts of /submit's Consul claim (doc/consul.md): concurrent claims of new ids
 * share one /v1/txn of check-not-exists + lock pairs (up to CLAIMBATCH_MAX per txn), led by the
 * first waiting request thread (batcher.h), as the group committer does for the spool. A txn is
 * all or nothing: on 409 the claims whose ops the Errors name settle as FS_EEXIST (the caller then
 * reads the key and decides), the others are sent again as a new batch. */
#ifndef FS_CLAIMBATCH_H
#define FS_CLAIMBATCH_H

#include <stdint.h>

struct consul;

/* Up to this many claims (two ops each) per txn; Consul allows 64 ops. */
#define CLAIMBATCH_MAX 32

/* check-not-exists(key) + lock(key, value, session) in some batch over c. 0 with *indexp the
 * lock's ModifyIndex; FS_EEXIST when this claim's ops failed (*invalidp set when Consul said the
 * session is invalid); FS_EIO or FS_EINVAL with *errp (if errp) consul_txn's message. */
int claimbatch_new(struct consul *c, const char *key, const char *value, const char *session,
		   int64_t *indexp, int *invalidp, char **errp);

#endif
