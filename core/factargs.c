/* SPDX-License-Identifier: Apache-2.0 */
/* The options of `factotum run <factfile> ...`, accepted exactly as Factotum 0.7.0 accepts them:
 * its docopt 0.6 command line, then the checks its main.rs makes (--env, --webhook), and the
 * --start check of its factfile module (doc/compatibility.md).
 *
 * What docopt 0.6.86 (the "0.6" Factotum builds with) does, and so what this file does:
 * - No abbreviations: a long flag must be spelled in full ("--no-col" is an unknown flag; unlike
 *   Python's docopt, docopt.rs resolves only exact names and the -h/--help, -v/--version synonyms).
 * - A token is a long flag if it matches ^--\S+(=.+)?$ (so "--opt=value" may hold spaces but no
 *   newline), a short one if it matches ^-[^-]\S*$; anything else, "-" included, is positional.
 *   \S is Unicode: whitespace is Rust's char::is_whitespace (tags_space_len).
 * - "--opt=value" splits at the first '='; "--opt" with an argument takes the next token verbatim,
 *   even when it looks like a flag or is "--". "--" (first time) ends the flags; everything after
 *   it is positional. `run` takes no positional after <factfile>, so "--" is accepted only last.
 * - A flag without an argument given one, a missing argument, an unknown flag: errors in argv
 *   order. Then matching: a positional, a known flag that `run` does not take (--help, --version,
 *   --output, --overwrite, -h, -v), or a repeated flag other than --tag/--constraint: no match.
 * - Numbers: a value that trims (Unicode) to empty decodes as 0; otherwise Rust's parse: an
 *   optional '+', ASCII digits, within u64. Values above LONG_MAX are kept as LONG_MAX (sizes
 *   and seconds that large mean "unlimited" either way).
 * Factotum's own texts are used where it has one; docopt's where it has a one-line one. */
#include "factargs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ffjson.h"
#include "tags.h"
#include "xalloc.h"

enum factargs_opt {
	FA_START,
	FA_ENV,
	FA_DRY_RUN,
	FA_NO_COLOUR,
	FA_WEBHOOK,
	FA_TAG,
	FA_CONSTRAINT,
	FA_MAX_SIZE,
	FA_HEARTBEAT,
	FA_OUTPUT,
	FA_OVERWRITE,
	FA_MAX_PARALLEL, /* the bundled runner's extension */
	FA_N_TAKEN,
	/* Known to Factotum's usage, but no command's option here. */
	FA_HELP = FA_N_TAKEN,
	FA_VERSION,
	FA_N
};

/* The options each command takes (bit o for option o). */
#define FA_BIT(o) (1u << (o))
#define FA_RUN_OPTS                                                                          \
	(FA_BIT(FA_START) | FA_BIT(FA_ENV) | FA_BIT(FA_DRY_RUN) | FA_BIT(FA_NO_COLOUR) |     \
	 FA_BIT(FA_WEBHOOK) | FA_BIT(FA_TAG) | FA_BIT(FA_CONSTRAINT) | FA_BIT(FA_MAX_SIZE) | \
	 FA_BIT(FA_HEARTBEAT))
static const struct {
	const char *name;
	unsigned opts;
} factargs_cmds[] = {
	[FACTARGS_RUN] = { "run", FA_RUN_OPTS },
	[FACTARGS_RUNNER_RUN] = { "run", FA_RUN_OPTS | FA_BIT(FA_MAX_PARALLEL) },
	[FACTARGS_VALIDATE] = { "validate", FA_BIT(FA_NO_COLOUR) },
	[FACTARGS_DOT] = { "dot", FA_BIT(FA_START) | FA_BIT(FA_OUTPUT) | FA_BIT(FA_OVERWRITE) |
					  FA_BIT(FA_NO_COLOUR) },
};

static const struct {
	const char *name;
	int has_arg;
	int repeats;
} factargs_opts[FA_N] = {
	[FA_START] = { "--start", 1, 0 },
	[FA_ENV] = { "--env", 1, 0 },
	[FA_DRY_RUN] = { "--dry-run", 0, 0 },
	[FA_NO_COLOUR] = { "--no-colour", 0, 0 },
	[FA_WEBHOOK] = { "--webhook", 1, 0 },
	[FA_TAG] = { "--tag", 1, 1 },
	[FA_CONSTRAINT] = { "--constraint", 1, 1 },
	[FA_MAX_SIZE] = { "--max-stdouterr-size", 1, 0 },
	[FA_HEARTBEAT] = { "--heartbeat-interval", 1, 0 },
	[FA_OUTPUT] = { "--output", 1, 0 },
	[FA_OVERWRITE] = { "--overwrite", 0, 0 },
	[FA_MAX_PARALLEL] = { "--max-parallel", 1, 0 },
	[FA_HELP] = { "--help", 0, 0 },
	[FA_VERSION] = { "--version", 0, 0 },
};

int factargs_takes_value(const char *name, size_t len)
{
	for (size_t i = 0; i < FA_N; i++)
		if (factargs_opts[i].has_arg && strlen(factargs_opts[i].name) == len &&
		    strncmp(factargs_opts[i].name, name, len) == 0)
			return 1;
	return 0;
}

/* What the docopt pass collects; strings point into argv. */
struct factargs_scan {
	enum factargs_cmd cmd;
	const char *value[FA_N_TAKEN]; /* the (last) value of each single-valued option */
	size_t count[FA_N_TAKEN];
	const char **tags;
	size_t n_tags;
	const char **constraints;
	size_t n_constraints;
	const char **webhooks; /* every --webhook, in order */
	size_t n_webhooks;
	char *nomatch; /* the first reason argv matches no usage pattern, or NULL */
};

static void factargs_init(struct factargs *fa)
{
	memset(fa, 0, sizeof *fa);
	kvlist_init(&fa->vars);
	kvlist_init(&fa->tags);
	kvlist_init(&fa->constraints);
	fa->max_stdouterr_size = -1;
	fa->heartbeat_interval = -1;
	fa->max_parallel = -1;
}

void factargs_free(struct factargs *fa)
{
	free(fa->start);
	free(fa->env_json);
	for (size_t i = 0; i < fa->n_webhooks; i++)
		free(fa->webhooks[i]);
	free(fa->webhooks);
	free(fa->output);
	kvlist_free(&fa->vars);
	kvlist_free(&fa->tags);
	kvlist_free(&fa->constraints);
	factargs_init(fa);
}

/* Length of the UTF-8 sequence starting at s (strict: no overlongs, surrogates or values above
 * U+10FFFF), or 0 if it is not valid. */
static size_t factargs_utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static int factargs_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;

	while (*p != '\0') {
		if ((k = factargs_utf8_len(p)) == 0)
			return 0;
		p += k;
	}
	return 1;
}

/* 1 if s[0..len) holds a whitespace character (Rust's \s). */
static int factargs_has_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (tags_space_len(s + i, len - i) > 0)
			return 1;
	return 0;
}

/* docopt's ^-[^-]\S*$ */
static int factargs_is_short(const char *t)
{
	size_t n = strlen(t), k;

	if (n < 2 || t[0] != '-' || t[1] == '-')
		return 0;
	k = factargs_utf8_len((const unsigned char *)t + 1);
	return !factargs_has_space(t + 1 + k, n - 1 - k);
}

/* docopt's ^--\S+(=.+)?$ ('.' is anything but a newline). */
static int factargs_is_long(const char *t)
{
	size_t n = strlen(t), ws;

	if (n < 3 || t[0] != '-' || t[1] != '-')
		return 0;
	if (!factargs_has_space(t + 2, n - 2))
		return 1;
	/* Otherwise \S+ must end at an '=' before the first whitespace, and the rest be one line. */
	for (ws = 2; tags_space_len(t + ws, n - ws) == 0; ws++)
		;
	if (strchr(t, '\n') != NULL)
		return 0;
	for (size_t i = 3; i < ws; i++)
		if (t[i] == '=')
			return 1;
	return 0;
}

static int factargs_lookup(enum factargs_cmd cmd, const char *name, size_t len)
{
	for (int i = 0; i < FA_N; i++)
		if (i == FA_MAX_PARALLEL && !(factargs_cmds[cmd].opts & FA_BIT(FA_MAX_PARALLEL)))
			continue; /* not Factotum's: unknown unless the bundled runner parses */
		else if (strlen(factargs_opts[i].name) == len &&
			 memcmp(factargs_opts[i].name, name, len) == 0)
			return i;
	return -1;
}

static void factargs_nomatch(struct factargs_scan *sc, char *why)
{
	if (sc->nomatch == NULL)
		sc->nomatch = why;
	else
		free(why);
}

/* Records one use of option o with value (NULL for a switch); spelled is how it was written
 * ("-h" for --help). */
static void factargs_record(struct factargs_scan *sc, int o, const char *spelled, const char *value)
{
	if (o >= FA_N_TAKEN || !(factargs_cmds[sc->cmd].opts & FA_BIT(o))) {
		factargs_nomatch(
			sc, xasprintf("Invalid arguments: '%s' is not an option of 'factotum %s'",
				      spelled, factargs_cmds[sc->cmd].name));
		return;
	}
	sc->count[o]++;
	if (o == FA_TAG) {
		sc->tags = xgrow_by_one(sc->tags, sc->n_tags, sizeof *sc->tags);
		sc->tags[sc->n_tags++] = value;
	} else if (o == FA_CONSTRAINT) {
		sc->constraints =
			xgrow_by_one(sc->constraints, sc->n_constraints, sizeof *sc->constraints);
		sc->constraints[sc->n_constraints++] = value;
	} else {
		if (o == FA_WEBHOOK) {
			sc->webhooks =
				xgrow_by_one(sc->webhooks, sc->n_webhooks, sizeof *sc->webhooks);
			sc->webhooks[sc->n_webhooks++] = value;
		}
		/* The bundled runner posts every event to each of its webhooks. */
		if (sc->count[o] == 2 && !(o == FA_WEBHOOK && sc->cmd == FACTARGS_RUNNER_RUN))
			factargs_nomatch(
				sc,
				xasprintf("Invalid arguments: '%s' cannot be given more than once",
					  factargs_opts[o].name));
		sc->value[o] = value != NULL ? value : "";
	}
}

/* docopt's pass over argv (Argv::parse), then the reasons matching would fail. */
static int factargs_scan(int argc, char *const argv[], struct factargs_scan *sc, char **errp)
{
	int seen_dashdash = 0;

	for (int i = 0; i < argc; i++) {
		const char *t = argv[i];

		if (!factargs_utf8_valid(t))
			return err_set(errp, FS_EINVAL,
				       "Invalid arguments: argument %d is not valid UTF-8", i + 1);
	}
	for (int i = 0; i < argc; i++) {
		const char *t = argv[i];

		if (!seen_dashdash && factargs_is_short(t)) {
			/* Stacked: -hv. Only -h and -v exist, and neither takes an argument. */
			for (const char *c = t + 1; *c != '\0';) {
				size_t k = factargs_utf8_len((const unsigned char *)c);
				if (k == 1 && *c == 'h')
					factargs_record(sc, FA_HELP, "-h", NULL);
				else if (k == 1 && *c == 'v')
					factargs_record(sc, FA_VERSION, "-v", NULL);
				else
					return err_set(errp, FS_EINVAL, "Unknown flag: '-%.*s'",
						       (int)k, c);
				c += k;
			}
		} else if (!seen_dashdash && factargs_is_long(t)) {
			const char *eq = strchr(t, '=');
			size_t name_len = eq != NULL ? (size_t)(eq - t) : strlen(t);
			const char *value = eq != NULL ? eq + 1 : NULL;
			int o = factargs_lookup(sc->cmd, t, name_len);

			if (o < 0)
				return err_set(errp, FS_EINVAL, "Unknown flag: '%.*s'",
					       (int)name_len, t);
			if (value != NULL && !factargs_opts[o].has_arg)
				return err_set(errp, FS_EINVAL,
					       "Flag '%s' cannot have an argument, but found '%s'.",
					       factargs_opts[o].name, value);
			if (value == NULL && factargs_opts[o].has_arg) {
				if (i + 1 == argc)
					return err_set(
						errp, FS_EINVAL,
						"Expected argument for flag '%s' but reached end of arguments.",
						factargs_opts[o].name);
				value = argv[++i];
			}
			factargs_record(sc, o, factargs_opts[o].name, value);
		} else if (!seen_dashdash && strcmp(t, "--") == 0) {
			seen_dashdash = 1;
		} else {
			factargs_nomatch(sc,
					 xasprintf("Invalid arguments: unexpected argument '%s'",
						   t));
		}
	}
	if (sc->nomatch != NULL)
		return err_set(errp, FS_EINVAL, "%s", sc->nomatch);
	return 0;
}

/* docopt's to_number for usize/u64 fields; type names the Rust type in the message. */
static int factargs_number(const char *v, const char *type, const char *flag, long *out,
			   char **errp)
{
	const char *s = v, *p;
	size_t len = strlen(v);
	uint64_t acc = 0;

	tags_trim(&s, &len);
	if (len == 0) {
		*out = 0;
		return 0;
	}
	p = v;
	if (*p == '+')
		p++;
	if (*p == '\0')
		goto bad;
	for (; *p != '\0'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d > 9 || acc > (UINT64_MAX - d) / 10)
			goto bad;
		acc = acc * 10 + d;
	}
	*out = acc > (uint64_t)LONG_MAX ? LONG_MAX : (long)acc;
	return 0;
bad:
	return err_set(errp, FS_EINVAL, "Could not decode '%s' to %s for '%s'.", v, type, flag);
}

/* --env: Factotum decodes it as BTreeMap<String, String> (json_str_to_btreemap) with
 * rustc-serialize, whose exact grammar ffjson reproduces, and prints the decoder error's
 * description for every failure: not JSON, too deep, not a flat object of strings. */
static int factargs_env(const char *text, struct kvlist *vars, char **errp)
{
	struct ffjson *root = NULL;
	const char *why = "decoder error";

	if (ffjson_parse(text, strlen(text), &root, NULL, NULL) != 0 || root->type != FFJSON_OBJECT)
		goto bad;
	for (size_t i = 0; i < root->n_members; i++) {
		const struct ffjson_member *m = &root->members[i];
		if (m->value->type != FFJSON_STRING)
			goto bad;
		if (memchr(m->key, '\0', m->key_len) != NULL ||
		    memchr(m->value->str, '\0', m->value->len) != NULL) {
			/* Factotum would take it; C strings cannot carry it. Refused, not silently cut. */
			why = "\\u0000 in a key or value is not supported";
			goto bad;
		}
	}
	/* ffjson keeps the last of repeated keys, as rustc-serialize's BTreeMap does. */
	for (size_t i = 0; i < root->n_members; i++)
		kvlist_set(vars, root->members[i].key, root->members[i].value->str);
	ffjson_free(root);
	return 0;
bad:
	ffjson_free(root);
	return err_set(errp, FS_EINVAL, "Supplied string '%s' is not valid JSON: %s", text, why);
}

/* url 1.x's WHATWG IPv4 rule: a host of up to four dot-separated numbers (0x hex, leading-0
 * octal) is an address and must be in range; anything else is a domain name. */
static const char *factargs_ipv4_problem(const char *host)
{
	char *parts = xstrdup(host), *part, *next;
	uint64_t nums[4];
	size_t np = 0, len = strlen(parts);
	int is_v4 = len > 0, overflow = 0;
	const char *problem = NULL;

	if (len > 0 && parts[len - 1] == '.')
		parts[len - 1] = '\0';
	for (part = parts; is_v4 && part != NULL; part = next) {
		char *dot = strchr(part, '.');
		const char *digits = part;
		int radix = 10;
		uint64_t v = 0;

		next = dot != NULL ? dot + 1 : NULL;
		if (dot != NULL)
			*dot = '\0';
		if (*part == '\0' || np == 4) {
			is_v4 = 0;
			break;
		}
		if (part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
			digits = part + 2;
			radix = 16;
		} else if (part[0] == '0' && part[1] != '\0') {
			digits = part + 1;
			radix = 8;
		}
		for (const char *d = digits; *d != '\0' && is_v4; d++) {
			int dv = isdigit((unsigned char)*d) ? *d - '0'
				 : isxdigit((unsigned char)*d)
					 ? tolower((unsigned char)*d) - 'a' + 10
					 : 99;
			if (dv >= radix)
				is_v4 = 0;
			v = v * (uint64_t)radix + (uint64_t)dv;
			if (v > UINT32_MAX) {
				overflow = 1;
				v = (uint64_t)UINT32_MAX + 1;
			}
		}
		nums[np++] = v;
	}
	if (is_v4 && np > 0) {
		if (overflow || nums[np - 1] > (UINT32_MAX >> (8 * (np - 1))))
			problem = "invalid IPv4 address";
		for (size_t k = 0; k + 1 < np; k++)
			if (nums[k] > 255)
				problem = "invalid IPv4 address";
	}
	free(parts);
	return problem;
}

/* The part of url 1.x's parser (hyper 0.10's Url::parse) that can fail for an http(s) URL: the
 * host and the port. Returns NULL or url's error text. Not reproduced: IDNA processing of
 * non-ASCII hosts and of "xn--" labels, which url may reject and this accepts. */
static const char *factargs_url_problem(const char *url)
{
	struct buf b, host;
	const char *problem = NULL, *p, *end, *at, *h, *hend;
	int in_brackets = 0;

	buf_init(&b);
	buf_init(&host);
	/* Input: C0 controls and spaces trimmed at both ends, tabs and newlines ignored. */
	p = url;
	while (*p != '\0' && (unsigned char)*p <= 0x20)
		p++;
	end = p + strlen(p);
	while (end > p && (unsigned char)end[-1] <= 0x20)
		end--;
	for (; p < end; p++)
		if (*p != '\t' && *p != '\n' && *p != '\r')
			buf_putc(&b, *p);
	if (b.data == NULL)
		buf_puts(&b, "");
	p = strchr(b.data, ':') + 1; /* the caller checked the http:// or https:// prefix */
	while (*p == '/' || *p == '\\')
		p++;
	/* The authority ends at / \ ? #; the host starts after its last '@'. */
	end = p + strcspn(p, "/\\?#");
	h = p;
	for (at = p; at < end; at++)
		if (*at == '@')
			h = at + 1;
	for (hend = h; hend < end; hend++) {
		if (*hend == '[')
			in_brackets = 1;
		else if (*hend == ']')
			in_brackets = 0;
		else if (*hend == ':' && !in_brackets)
			break;
	}
	if (hend == h) {
		problem = "empty host";
		goto done;
	}
	if (*h == '[') {
		char addr[64];
		size_t n = (size_t)(hend - h);
		struct in6_addr a6;
		if (n < 2 || hend[-1] != ']' || n - 2 >= sizeof addr) {
			problem = "invalid IPv6 address";
			goto done;
		}
		memcpy(addr, h + 1, n - 2);
		addr[n - 2] = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1) {
			problem = "invalid IPv6 address";
			goto done;
		}
	} else {
		/* Percent-decode, lower-case ASCII (IDNA's mapping), then the forbidden characters. */
		for (const char *c = h; c < hend; c++) {
			if (*c == '%' && hend - c >= 3 && isxdigit((unsigned char)c[1]) &&
			    isxdigit((unsigned char)c[2])) {
				char hx[3] = { c[1], c[2], '\0' };
				buf_putc(&host, (char)strtol(hx, NULL, 16));
				c += 2;
			} else {
				char ch = *c;
				buf_putc(&host,
					 (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch);
			}
		}
		if (host.data == NULL)
			buf_puts(&host, "");
		/* url decodes lossily; IDNA then refuses U+FFFD. */
		for (size_t i = 0, k; i < host.len; i += k) {
			if ((k = factargs_utf8_len((const unsigned char *)host.data + i)) == 0) {
				problem = "invalid international domain name";
				goto done;
			}
		}
		if (strlen(host.data) != host.len ||
		    strpbrk(host.data, "\t\n\r #%/:?@[\\]") != NULL) {
			problem = "invalid domain character";
			goto done;
		}
		if ((problem = factargs_ipv4_problem(host.data)) != NULL)
			goto done;
	}
	/* Port: digits up to the end of the authority, at most 65535. */
	if (*hend == ':') {
		unsigned long port = 0;
		for (p = hend + 1; p < end; p++) {
			if (*p < '0' || *p > '9' ||
			    (port = port * 10 + (unsigned long)(*p - '0')) > 65535) {
				problem = "invalid port number";
				goto done;
			}
		}
	}
done:
	buf_free(&b);
	buf_free(&host);
	return problem;
}

int factargs_parse(int argc, char *const argv[], struct factargs *fa, char **errp)
{
	return factargs_parse_cmd(FACTARGS_RUN, argc, argv, fa, errp);
}

int factargs_parse_cmd(enum factargs_cmd cmd, int argc, char *const argv[], struct factargs *fa,
		       char **errp)
{
	struct factargs_scan sc;
	const char *problem;
	int rc;

	factargs_init(fa);
	memset(&sc, 0, sizeof sc);
	sc.cmd = cmd;
	if ((rc = factargs_scan(argc, argv, &sc, errp)) != 0)
		goto done;
	/* Decoding follows the fields of Factotum's Args struct. */
	if (sc.value[FA_MAX_SIZE] != NULL &&
	    (rc = factargs_number(sc.value[FA_MAX_SIZE], "usize", "--max-stdouterr-size",
				  &fa->max_stdouterr_size, errp)) != 0)
		goto done;
	if (sc.value[FA_HEARTBEAT] != NULL &&
	    (rc = factargs_number(sc.value[FA_HEARTBEAT], "u64", "--heartbeat-interval",
				  &fa->heartbeat_interval, errp)) != 0)
		goto done;
	if (sc.value[FA_MAX_PARALLEL] != NULL &&
	    (rc = factargs_number(sc.value[FA_MAX_PARALLEL], "usize", "--max-parallel",
				  &fa->max_parallel, errp)) != 0)
		goto done;
	for (size_t i = 0; i < sc.n_tags; i++)
		tags_add(&fa->tags, sc.tags[i]);
	for (size_t i = 0; i < sc.n_constraints; i++)
		tags_add(&fa->constraints, sc.constraints[i]);
	/* Without --env Factotum decodes "{}", so the tag variables exist either way. */
	if ((rc = factargs_env(sc.value[FA_ENV] != NULL ? sc.value[FA_ENV] : "{}", &fa->vars,
			       errp)) != 0)
		goto done;
	for (size_t i = 0; i < fa->tags.n; i++) {
		char *k = xasprintf("tag:%s", fa->tags.items[i].key);
		kvlist_set(&fa->vars, k, fa->tags.items[i].value);
		free(k);
	}
	if (sc.count[FA_DRY_RUN] > 0 && sc.value[FA_WEBHOOK] != NULL) {
		rc = err_set(errp, FS_EINVAL,
			     "Error: --webhook cannot be used with the --dry-run option");
		goto done;
	}
	for (size_t i = 0; i < sc.n_webhooks; i++) {
		const char *wh = sc.webhooks[i];
		if (strncmp(wh, "http://", 7) != 0 && strncmp(wh, "https://", 8) != 0)
			problem =
				"URL must begin with 'http://' or 'https://' to be used with Factotum webhooks";
		else
			problem = factargs_url_problem(wh);
		if (problem != NULL) {
			rc = err_set(
				errp, FS_EINVAL,
				"Error: the specifed webhook URL \"%s\" is invalid. Reason: %s", wh,
				problem);
			goto done;
		}
		fa->webhooks = xgrow_by_one(fa->webhooks, fa->n_webhooks, sizeof *fa->webhooks);
		fa->webhooks[fa->n_webhooks++] = xstrdup(wh);
	}
	fa->webhook = fa->n_webhooks > 0 ? fa->webhooks[0] : NULL;
	if (sc.value[FA_START] != NULL)
		fa->start = xstrdup(sc.value[FA_START]);
	if (sc.value[FA_ENV] != NULL)
		fa->env_json = xstrdup(sc.value[FA_ENV]);
	if (sc.value[FA_OUTPUT] != NULL)
		fa->output = xstrdup(sc.value[FA_OUTPUT]);
	fa->overwrite = sc.count[FA_OVERWRITE] > 0;
	fa->no_colour = sc.count[FA_NO_COLOUR] > 0;
	fa->dry_run = sc.count[FA_DRY_RUN] > 0;
	rc = 0;
done:
	free(sc.tags);
	free(sc.constraints);
	free(sc.webhooks);
	free(sc.nomatch);
	if (rc != 0)
		factargs_free(fa);
	return rc;
}

/* Parent and child lists of the task graph, by task index, from the names in depends_on. */
struct factargs_graph {
	size_t n;
	size_t **parents, *n_parents;
	size_t **children, *n_children;
};

/* Each list is allocated at its final size (counted first): growing them one edge at a time
 * would copy a task's list once per child. */
static void factargs_graph_build(const struct factfile *ff, struct factargs_graph *g)
{
	long *parent;
	size_t e = 0;

	g->n = ff->n_tasks;
	g->parents = xcalloc(g->n + 1, sizeof *g->parents);
	g->n_parents = xcalloc(g->n + 1, sizeof *g->n_parents);
	g->children = xcalloc(g->n + 1, sizeof *g->children);
	g->n_children = xcalloc(g->n + 1, sizeof *g->n_children);
	for (size_t t = 0; t < g->n; t++)
		e += ff->tasks[t].n_depends_on;
	parent = xcalloc(e + 1, sizeof *parent);
	e = 0;
	for (size_t t = 0; t < g->n; t++) {
		for (size_t d = 0; d < ff->tasks[t].n_depends_on; d++) {
			/* a validated factfile names no unknown task; nothing to follow there */
			long p = factfile_find_task(ff, ff->tasks[t].depends_on[d]);
			parent[e++] = p;
			if (p >= 0) {
				g->n_parents[t]++;
				g->n_children[p]++;
			}
		}
	}
	for (size_t t = 0; t < g->n; t++) {
		g->parents[t] = xcalloc(g->n_parents[t] + 1, sizeof(size_t));
		g->children[t] = xcalloc(g->n_children[t] + 1, sizeof(size_t));
		g->n_parents[t] = g->n_children[t] = 0;
	}
	e = 0;
	for (size_t t = 0; t < g->n; t++) {
		for (size_t d = 0; d < ff->tasks[t].n_depends_on; d++) {
			long p = parent[e++];
			if (p < 0)
				continue;
			g->parents[t][g->n_parents[t]++] = (size_t)p;
			g->children[p][g->n_children[p]++] = t;
		}
	}
	free(parent);
}

static void factargs_graph_free(struct factargs_graph *g)
{
	for (size_t t = 0; t < g->n; t++) {
		free(g->parents[t]);
		free(g->children[t]);
	}
	free(g->parents);
	free(g->n_parents);
	free(g->children);
	free(g->n_children);
}

/* Whether the job can start at start. Our rule, the intended one: every parent of a descendant
 * of start is start or a descendant. Factotum's (sequencer::is_proper_sub_tree), defect
 * included, is stricter: it walks level by level (level k being the tasks at the end of a path of
 * k edges from start) and checks each level's parents against only the tasks found so far
 * (levels up to k + 1), so a parent that is a descendant further down fails. A task at several
 * levels is checked at each, and the check at its lowest level, its distance from start, is the
 * strictest: so its rule is that every parent of a descendant t lies at a distance of at most
 * dist(t) + 1 from start. One breadth-first walk gives the distances, in time linear in the
 * graph; walking the levels as Factotum does would revisit a task once per level it is on. */
static int factargs_start_ok(const struct factargs_graph *g, size_t start,
			     enum factfile_rules rules)
{
	size_t *dist = xcalloc(g->n + 1, sizeof *dist), *queue = xcalloc(g->n + 1, sizeof *queue);
	size_t head = 0, tail = 0;
	int ok = 1;

	/* dist[t] is the distance plus one; 0: not reached */
	dist[start] = 1;
	queue[tail++] = start;
	while (head < tail) {
		size_t t = queue[head++];
		for (size_t c = 0; c < g->n_children[t]; c++) {
			size_t k = g->children[t][c];
			if (dist[k] == 0) {
				dist[k] = dist[t] + 1;
				queue[tail++] = k;
			}
		}
	}
	for (size_t i = 1; i < tail && ok; i++) {
		size_t t = queue[i];
		for (size_t p = 0; p < g->n_parents[t]; p++) {
			size_t d = dist[g->parents[t][p]];
			if (d == 0 || (rules == FACTFILE_RULES_FACTOTUM && d > dist[t] + 1))
				ok = 0;
		}
	}
	free(dist);
	free(queue);
	return ok;
}

int factargs_check_start(const struct factfile *ff, const char *start, enum factfile_rules rules,
			 char **errp)
{
	struct factargs_graph g;
	long s = factfile_find_task(ff, start);
	int ok;

	if (s < 0)
		return err_set(
			errp, FS_EINVAL,
			"The job cannot be started from '%s' because the task specified could not be found",
			start);
	factargs_graph_build(ff, &g);
	ok = factargs_start_ok(&g, (size_t)s, rules);
	factargs_graph_free(&g);
	if (!ok)
		return err_set(
			errp, FS_EINVAL,
			"The job cannot be started from '%s' because the job cannot be started here "
			"without triggering prior tasks",
			start);
	return 0;
}
