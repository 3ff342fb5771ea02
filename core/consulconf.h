/* SPDX-License-Identifier: Apache-2.0 */
/* Where and how to reach Consul, read as Consul's own tools read it (doc/consul.md): each setting
 * from its --consul-* option (command line or config file), else from its CONSUL_* environment
 * variable, else the default. Everything is checked when a program starts (an address that does
 * not parse, a file that cannot be read, an empty token file), so a bad value is one line and
 * exit 2 rather than a failure at the first request.
 *
 * Addresses (--consul-addr, CONSUL_HTTP_ADDR): HOST[:PORT], http://HOST[:PORT],
 * https://HOST[:PORT] or unix:///absolute/path. HOST is an IP address, an IPv6 address in
 * brackets or a host name; without a scheme CONSUL_HTTP_SSL=true means https; without a port the
 * scheme's own (80, 443) is used, as Consul's tools do. */
#ifndef FS_CONSULCONF_H
#define FS_CONSULCONF_H

struct config;

/* A parsed address: every string owned (consulconf_addr_clear). */
struct consulconf_addr {
	int https;    /* 1 for https:// (or no scheme with ssl) */
	char *host;   /* as written in a URL: an IPv6 address keeps its brackets; NULL for unix */
	int port;     /* 1..65535; 0 for unix */
	char *socket; /* the unix socket's path, or NULL */
};
void consulconf_addr_clear(struct consulconf_addr *a);

/* Parses addr as above; where names its source in messages ("--consul-addr",
 * "CONSUL_HTTP_ADDR"). 0 with *a filled, or FS_EINVAL with one line in *errp (caller frees). */
int consulconf_addr_parse(const char *addr, int ssl, const char *where, struct consulconf_addr *a,
			  char **errp);

/* Completes cfg's Consul settings after both option sources were read (config_parse calls it):
 * the TLS settings and the address not given as options are taken from the environment, and the
 * derived consul_url, consul_address, consul_socket, consul_connect_to and consul_token are set.
 * ip_port_opt names --consul-ip or --consul-port when one was given as an option (NULL
 * otherwise): it then wins over CONSUL_HTTP_ADDR, and cannot be combined with --consul-addr.
 * With cfg->no_consul only that combination is checked. 0 or FS_EINVAL with one line in
 * *errp. */
int consulconf_resolve(struct config *cfg, const char *ip_port_opt, char **errp);

#endif
