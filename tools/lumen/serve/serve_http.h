/* SPDX-License-Identifier: MIT */
/* lumen serve: the HTTP side (libmicrohttpd) and the chat prompt. */
#ifndef SERVE_HTTP_H
#define SERVE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "serve_gen.h"

struct MHD_Daemon;

/**
 * struct serve_http_options - where and how much.
 * @host: a numeric address or a name (getaddrinfo); loopback by default.
 * @port: 0 picks a free one (printed on the "listening" line).
 * @max_body: bytes of a request body; more is refused with 413.
 * @max_connections: open connections; more are refused by the library.
 */
struct serve_http_options {
	const char *host;
	uint16_t port;
	size_t max_body;
	unsigned int max_connections;
};

/* listen and serve on threads of its own; the port in *@port. -1 printed */
int serve_http_start(struct serve_state *st, const struct serve_http_options *o,
		     struct MHD_Daemon **daemon, uint16_t *port);
void serve_http_stop(struct MHD_Daemon *daemon);

/*
 * The prompt of a chat request: its messages through the model's chat
 * template (include/lumen/chat.h), ending with the assistant's turn.
 * malloc'd, or NULL with @err set.
 */
char *serve_chat_prompt(struct serve_state *st, const struct serve_request *req,
			struct serve_error *err);

/* the ids that end an assistant turn (EOS among them); at most @cap */
int serve_chat_stop_ids(struct serve_state *st, int32_t *ids, size_t cap);

#endif /* SERVE_HTTP_H */
