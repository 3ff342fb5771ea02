/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
#ifndef FS_SCHEMA_H
#define FS_SCHEMA_H
#endif
