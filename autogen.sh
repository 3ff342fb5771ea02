#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates the autotools build files (configure, Makefile.in).
set -e
cd "$(dirname "$0")"
autoreconf --install --force
