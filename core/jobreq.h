/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
#ifndef FS_JOBREQ_H
#define FS_JOBREQ_H
#endif
