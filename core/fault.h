/* SPDX-License-Identifier: Apache-2.0 */
/* The fault-injection seam: named points in the code where a test makes the process die or an
 * I/O call fail, to check what each crash or failure leaves behind. It exists only in builds
 * configured with --enable-fault-injection (FS_FAULT_INJECTION defined); elsewhere fault_at is
 * the constant 0 and costs nothing.
 *
 * The environment variable FS_FAULT chooses the faults: a comma-separated list of
 * POINT=ACTION[@N], where ACTION is
 *   kill    the process sends itself SIGKILL (a crash: nothing is cleaned up or flushed
 *           beyond what the kernel already has),
 *   abort   abort(3),
 *   exit    _exit(70) (a clean but sudden exit),
 *   eio, enospc, eintr
 *           fault_at returns -EIO, -ENOSPC or -EINTR: the caller acts as if the I/O call at
 *           that point had failed with that errno;
 * and N (default 1) fires the fault on the N-th time the point is reached, counting from 1 in
 * each process; a fault that returns an errno fires once. Before acting, the point writes
 * "fault: POINT: ACTION" to stderr. Point names are listed in doc/architecture.md. */
#ifndef FS_FAULT_H
#define FS_FAULT_H

#ifdef FS_FAULT_INJECTION
/* 0 when no fault is chosen for point (a static string); a negative errno when the caller is
 * to fail its I/O call; does not return when the fault ends the process. */
int fault_at(const char *point);
#else
#define fault_at(point) 0
#endif

#endif
