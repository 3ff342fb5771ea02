/* SPDX-License-Identifier: Apache-2.0 */
/* The responder's refusal of cross-site POSTs (doc/api.md, "Cross-site requests"): a browser
 * names the page that sent a request in Origin and, newer ones, says in Sec-Fetch-Site how it
 * relates to the target; a page of another site must not make a logged-in operator's browser
 * submit, cancel or drain. Clients that send neither header (curl, scripts) are not browsers
 * acting for someone else and pass. Pure functions of the request's headers. */
#ifndef FS_CSRF_H
#define FS_CSRF_H

/* 1 when a POST with these headers may be served, 0 when it is refused: Sec-Fetch-Site is
 * "cross-site" or "same-site" (any case), or Origin is present and is not the request's own
 * origin, https ("https" when true, else "http") :// host, where host is the request's Host
 * header (host[:port]; a missing port is the scheme's default, 443 or 80; host names compare
 * without case). An Origin of "null", or one that is present while host is NULL or empty, is
 * never the own one. NULL or "" means the header is absent. */
int csrf_allowed(const char *origin, const char *fetch_site, int https, const char *host);

#endif
