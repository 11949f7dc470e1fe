/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_URING_H__
#define __LUMEN_URING_H__

struct io_uring_cmd;

int lumen_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

#endif /* __LUMEN_URING_H__ */
