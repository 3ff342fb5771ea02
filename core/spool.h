/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
#ifndef FS_SPOOL_H
#define FS_SPOOL_H
#endif
