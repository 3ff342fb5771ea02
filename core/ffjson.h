/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
#ifndef FS_FFJSON_H
#define FS_FFJSON_H
#endif
