/* SPDX-License-Identifier: Apache-2.0 */
/* Factotum's factfile schema, hard-coded, with valico 0.8.2's error output. What valico does,
 * read from its source (rustless/valico at the 0.8.2 release, src/json_schema):
 * - a value's pointer is its parent's joined with "/" and the raw key or index: keys are not
 *   escaped ("~", "/" stay as they are); the root is "";
 * - type: "Type of the value is wrong" ("The value must be <type>"); "integer" accepts only
 *   integers as parsed (I64/U64), so 1.0 and 1e2 are not integers;
 * - properties: members are visited in the object's (BTreeMap, byte-wise sorted) key order; a
 *   known key is validated in place, an unknown one gives "Property conditions are not met"
 *   ("Additional properties are not allowed") at the OBJECT's pointer, once per unknown key;
 * - required: "This property is required" at <object>/<key>, in the schema's list order;
 * - maximum/minimum compare any number as f64: "Maximum condition is not met" / "Minimum
 *   condition is not met", no detail; pattern: "Pattern condition is not met";
 * - validators that do not apply to a value's type say nothing (only "type" complains).
 * Order of keywords within one schema object: valico collects the keywords in a HashSet with a
 * random hash seed, so Factotum's order between, say, a required error and an unknown-key error
 * of the same object varies from run to run. We use the schema file's order: type, then
 * properties (with additionalProperties), then required; for integers type, maximum, minimum. */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"

enum kind { K_OBJECT, K_ARRAY, K_STRING, K_INTEGER };

struct node;

struct prop {
	const char *name;
	const struct node *schema;
};

struct node {
	enum kind kind;
	const struct prop *props; /* K_OBJECT: additionalProperties is false everywhere */
	size_t n_props;
	const char *const *required;
	size_t n_required;
	const struct node *items; /* K_ARRAY */
	bool iglu_pattern;        /* K_STRING */
	bool code_range;          /* K_INTEGER: 0..32767 */
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct node s_string = { .kind = K_STRING };
static const struct node s_schema_uri = { .kind = K_STRING, .iglu_pattern = true };
static const struct node s_code = { .kind = K_INTEGER, .code_range = true };
static const struct node s_codes = { .kind = K_ARRAY, .items = &s_code };
static const struct node s_strings = { .kind = K_ARRAY, .items = &s_string };

/* Property lists in the schema file's order; iteration follows the data's keys anyway. */
static const struct prop p_on_result[] = {
	{ "terminateJobWithSuccess", &s_codes },
	{ "continueJob", &s_codes },
};
static const char *const r_on_result[] = { "terminateJobWithSuccess", "continueJob" };
static const struct node s_on_result = { K_OBJECT,       p_on_result, N(p_on_result), r_on_result,
					 N(r_on_result), NULL,        false,          false };

static const struct prop p_task[] = {
	{ "name", &s_string },       { "command", &s_string },  { "onResult", &s_on_result },
	{ "dependsOn", &s_strings }, { "executor", &s_string }, { "arguments", &s_strings },
};
static const char *const r_task[] = { "executor",  "dependsOn", "command",
				      "arguments", "name",      "onResult" };
static const struct node s_task = { K_OBJECT,  p_task, N(p_task), r_task,
				    N(r_task), NULL,   false,     false };
static const struct node s_tasks = { .kind = K_ARRAY, .items = &s_task };

static const struct prop p_data[] = { { "name", &s_string }, { "tasks", &s_tasks } };
static const char *const r_data[] = { "name", "tasks" };
static const struct node s_data = { K_OBJECT,  p_data, N(p_data), r_data,
				    N(r_data), NULL,   false,     false };

static const struct prop p_root[] = { { "schema", &s_schema_uri }, { "data", &s_data } };
static const char *const r_root[] = { "schema", "data" };
static const struct node s_root = { K_OBJECT,  p_root, N(p_root), r_root,
				    N(r_root), NULL,   false,     false };

static bool in_class(unsigned char c, bool dot)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || (dot && c == '.');
}

/* One or more characters of a class, then the terminator t (or the end if t is 0). */
static bool run(const char *s, size_t len, size_t *i, int cls, char t)
{
	size_t start = *i;

	while (*i < len) {
		unsigned char c = (unsigned char)s[*i];
		bool ok = cls == 2 ? (c >= '0' && c <= '9') : in_class(c, cls == 1);

		if (!ok)
			break;
		(*i)++;
	}
	if (*i == start)
		return false;
	if (t == 0)
		return *i == len;
	if (*i >= len || s[*i] != t)
		return false;
	(*i)++;
	return true;
}

/* Whether s (len bytes) matches the schema's pattern for "schema":
 * ^iglu:[a-zA-Z0-9-_.]+/[a-zA-Z0-9-_]+/[a-zA-Z0-9-_]+/[0-9]+-[0-9]+-[0-9]+$ */
static bool schema_iglu_uri_valid(const char *s, size_t len)
{
	size_t i = 5;

	/* The classes exclude '/', and the digit runs exclude '-': no backtracking is needed. */
	return len >= 5 && memcmp(s, "iglu:", 5) == 0 && run(s, len, &i, 1, '/') &&
	       run(s, len, &i, 0, '/') && run(s, len, &i, 0, '/') && run(s, len, &i, 2, '-') &&
	       run(s, len, &i, 2, '-') && run(s, len, &i, 2, 0);
}

/* The problems found, as text, and how many: past SCHEMA_MAX_PROBLEMS only counted, so that a
 * factfile of a million wrong items makes a message of a few kilobytes, not of megabytes. */
struct problems {
	struct buf text;
	size_t n;
};

static void report(struct problems *out, const struct buf *path, const char *title,
		   const char *detail)
{
	if (out->n++ >= SCHEMA_MAX_PROBLEMS)
		return;
	if (out->text.len > 0)
		buf_putc(&out->text, '\n');
	buf_putc(&out->text, '\'');
	buf_append(&out->text, path->data, path->len);
	buf_puts(&out->text, "' - ");
	buf_puts(&out->text, title);
	if (detail != NULL)
		buf_printf(&out->text, " (%s)", detail);
}

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_OBJECT:
		return "object";
	case K_ARRAY:
		return "array";
	case K_STRING:
		return "string";
	case K_INTEGER:
		return "integer";
	}
	return "";
}

static bool kind_matches(const struct ffjson *v, enum kind k)
{
	switch (k) {
	case K_OBJECT:
		return v->type == FFJSON_OBJECT;
	case K_ARRAY:
		return v->type == FFJSON_ARRAY;
	case K_STRING:
		return v->type == FFJSON_STRING;
	case K_INTEGER:
		return v->type == FFJSON_I64 || v->type == FFJSON_U64;
	}
	return false;
}

/* Json::as_f64 */
static bool as_f64(const struct ffjson *v, double *d)
{
	switch (v->type) {
	case FFJSON_I64:
		*d = (double)v->i64;
		return true;
	case FFJSON_U64:
		*d = (double)v->u64;
		return true;
	case FFJSON_F64:
		*d = v->f64;
		return true;
	default:
		return false;
	}
}

/* path holds the value's pointer on entry and is restored on return. */
static void validate(const struct ffjson *v, const struct node *n, struct buf *path,
		     struct problems *out)
{
	size_t mark = path->len;
	double d;

	if (!kind_matches(v, n->kind)) {
		char detail[32];

		snprintf(detail, sizeof(detail), "The value must be %s", kind_name(n->kind));
		report(out, path, "Type of the value is wrong", detail);
	}
	switch (n->kind) {
	case K_OBJECT:
		if (v->type != FFJSON_OBJECT)
			break;
		for (size_t i = 0; i < v->n_members; i++) {
			const struct ffjson_member *m = &v->members[i];
			const struct node *child = NULL;

			for (size_t k = 0; k < n->n_props; k++)
				if (strlen(n->props[k].name) == m->key_len &&
				    memcmp(n->props[k].name, m->key, m->key_len) == 0)
					child = n->props[k].schema;
			if (child == NULL) {
				report(out, path, "Property conditions are not met",
				       "Additional properties are not allowed");
				continue;
			}
			buf_putc(path, '/');
			buf_append(path, m->key, m->key_len);
			validate(m->value, child, path, out);
			path->len = mark;
			path->data[mark] = '\0';
		}
		for (size_t k = 0; k < n->n_required; k++) {
			if (ffjson_get(v, n->required[k]) != NULL)
				continue;
			buf_printf(path, "/%s", n->required[k]);
			report(out, path, "This property is required", NULL);
			path->len = mark;
			path->data[mark] = '\0';
		}
		break;
	case K_ARRAY:
		if (v->type != FFJSON_ARRAY)
			break;
		for (size_t i = 0; i < v->n_items; i++) {
			buf_printf(path, "/%zu", i);
			validate(v->items[i], n->items, path, out);
			path->len = mark;
			path->data[mark] = '\0';
		}
		break;
	case K_STRING:
		if (n->iglu_pattern && v->type == FFJSON_STRING &&
		    !schema_iglu_uri_valid(v->str, v->len))
			report(out, path, "Pattern condition is not met", NULL);
		break;
	case K_INTEGER:
		if (n->code_range && as_f64(v, &d)) {
			if (!(d <= 32767.0))
				report(out, path, "Maximum condition is not met", NULL);
			if (!(d >= 0.0))
				report(out, path, "Minimum condition is not met", NULL);
		}
		break;
	}
}

int schema_validate_factfile(const struct ffjson *root, char **errp)
{
	struct problems out = { .n = 0 };
	struct buf path;
	int rc = 0;

	buf_init(&path);
	buf_init(&out.text);
	buf_append(&path, "", 0);
	validate(root, &s_root, &path, &out);
	if (out.n > SCHEMA_MAX_PROBLEMS)
		buf_printf(&out.text, "\n... and %zu more problems", out.n - SCHEMA_MAX_PROBLEMS);
	if (out.n > 0)
		rc = err_set(errp, FS_EINVAL, "%s", out.text.data);
	buf_free(&path);
	buf_free(&out.text);
	return rc;
}
