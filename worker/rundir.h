/* SPDX-License-Identifier: Apache-2.0 */
/* Removing a run's working directory, <spool>/runs/<id>, whoever filled it: the run user owns
 * what its tasks made there, and may have left directories the worker cannot read or write. */
#ifndef FS_RUNDIR_H
#define FS_RUNDIR_H

/* Removes dir and everything under it without following any symlink (a symlink named dir is
 * removed itself): each directory is first made the caller's (CAP_CHOWN where the run user
 * owned it) and searchable. An absent dir is not an error. 0 when dir is gone, -1 when
 * something remains (a directory that could not be taken or emptied). Uses nftw: not for two
 * threads at once. */
int rundir_remove(const char *dir);

#endif
