/* SPDX-License-Identifier: Apache-2.0 */
/* Validation of a parsed factfile against Factotum 0.7.0's factfile JSON schema
 * (src/factotum/parser/schemavalidator/jsonschemas/factotum.json), producing the error lines
 * valico 0.8.2 produces for it, in Factotum's format "'<json-pointer>' - <title>[ (<detail>)]". */
#ifndef FS_SCHEMA_H
#define FS_SCHEMA_H

#include "ffjson.h"

/* The most problems listed; the rest are counted in one last line "... and <n> more problems". */
#define SCHEMA_MAX_PROBLEMS 100

/* Returns 0 if root satisfies the factfile schema. Otherwise returns FS_EINVAL and sets *errp
 * (if not NULL) to the error lines joined with '\n' (no prefix, no final newline), at most
 * SCHEMA_MAX_PROBLEMS of them and then the count of the others. root is only
 * read. */
int schema_validate_factfile(const struct ffjson *root, char **errp);

#endif
