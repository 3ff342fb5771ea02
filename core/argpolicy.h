/* SPDX-License-Identifier: Apache-2.0 */
/* What a request's factfileArgs may ask of this server beyond Factotum's own grammar: client
 * webhooks (--client-webhooks, --client-webhook-hosts), the heartbeat and the size of the output
 * tails the runner keeps for webhooks (doc/security.md). */
#ifndef FS_ARGPOLICY_H
#define FS_ARGPOLICY_H

#include "config.h"
#include "factargs.h"

/* The shortest --heartbeat-interval a request may ask for, in seconds. */
#define ARGPOLICY_MIN_HEARTBEAT 5

enum argpolicy_webhooks {
	ARGPOLICY_WEBHOOKS_DENY,  /* a request's --webhook is refused */
	ARGPOLICY_WEBHOOKS_HOSTS, /* allowed to the hosts and ports of the allow-list */
	ARGPOLICY_WEBHOOKS_ANY,   /* allowed anywhere */
};

struct argpolicy {
	enum argpolicy_webhooks webhooks;
	const char *hosts;       /* --client-webhook-hosts as given, or NULL; borrowed */
	int server_webhook;      /* the server passes its own --webhook to every run */
	int bundled_runner;      /* the runner takes --webhook more than once */
	long max_stdouterr_size; /* the server's --max-stdouterr-size */
};

/* Fills *p from cfg; p borrows cfg's strings for as long as cfg lives. */
void argpolicy_init(struct argpolicy *p, const struct config *cfg);

/* Loads what argpolicy_check needs (libcurl with --client-webhooks hosts), to be called before
 * the program starts threads. Returns 0, or FS_EIO with *errp "--client-webhooks hosts: <why>"
 * (libcurl cannot be loaded). */
int argpolicy_prepare(const struct argpolicy *p, char **errp);

/* Checks the parsed factfileArgs fa against p. Returns 0, or FS_EINVAL with *errp one line
 * naming the option:
 *   "--webhook is not allowed in factfileArgs on this server (--client-webhooks deny)"
 *   "--webhook is not allowed in factfileArgs: this server's runner takes one webhook, the
 *    server's own (--webhook)"   (a server webhook and a --factotum-bin other than the bundled
 *                                 runner, whatever --client-webhooks says)
 * and, with --client-webhooks hosts, for a URL as libcurl's URL parser reads it (what the
 * runner's libcurl connects to):
 *   "--webhook URL '<url>' is not one libcurl accepts"
 *   "--webhook URL '<url>' holds a backslash, a space or a control character"
 *   "--webhook URL '<url>' carries user information"
 *   "--webhook host '<host>' is not in --client-webhook-hosts"
 *   "--webhook port <port> of host '<host>' is not in --client-webhook-hosts"
 *   "--webhook: cannot check the host: <why>"   (libcurl cannot be loaded)
 * then "--heartbeat-interval must be at least 5 seconds" and "--max-stdouterr-size is above this
 * server's limit (<n>)". Thread-safe. */
int argpolicy_check(const struct argpolicy *p, const struct factargs *fa, char **errp);

/* Checks the syntax of a --client-webhook-hosts value: comma-separated entries (blanks around
 * them ignored), each HOST or HOST:PORT, HOST being a DNS name, "*." followed by one (any name
 * ending in ".<domain>", not <domain> itself), an IPv4 address or a bracketed IPv6 address,
 * PORT 1..65535. An entry without a port allows only the scheme's default port (80 for http,
 * 443 for https). Returns 0, or FS_EINVAL with *errp naming the bad entry. */
int argpolicy_hosts_check(const char *list, char **errp);

#endif
