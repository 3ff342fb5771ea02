#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What systemd does for a socket unit and the service it activates, where systemd is not PID 1:
makes the unit's listening socket (ListenStream= path, SocketUser=, SocketGroup=, SocketMode=, the
directory with DirectoryMode= when it is missing), puts it on fd 3 with LISTEN_FDS=1 and
LISTEN_PID, and executes the service's command in this process (so LISTEN_PID is its pid).

usage: sd_listen.py PATH USER GROUP MODE DIRMODE NAME -- COMMAND [ARG...]
"""
import grp
import os
import pwd
import socket
import sys


def main(argv):
    if len(argv) < 9 or argv[7] != "--":
        sys.exit(__doc__.strip().splitlines()[-1])
    path, user, group, mode, dirmode, name = argv[1:7]
    command = argv[8:]
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
        os.chmod(directory, int(dirmode, 8))
    if os.path.lexists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(path, int(mode, 8))
    sock.listen(socket.SOMAXCONN)
    if sock.fileno() != 3:
        os.dup2(sock.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=name)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
