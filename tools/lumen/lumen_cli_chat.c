// SPDX-License-Identifier: MIT
/*
 * lumen chat: a conversation with an instruct model, in the habits of
 * `ollama run` and `llama-cli -cnv`. Each turn is rendered with the
 * model's chat template (<lumen/chat.h>); only the text the KV cache does
 * not hold yet is prefilled, so a turn costs its own tokens, not the whole
 * conversation's. A full context ends the conversation with a message
 * (/clear starts a new one): lumen does not shift the cache.
 */
#define _GNU_SOURCE	/* ppoll */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lumen_cli.h"
#include "lumen_cli_spec.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lumen chat -m MODEL [options]\n"
		"  -m, --model FILE        a .lnpu, or a .gguf (compiled and cached)\n"
		"  -s, --system TEXT       the system prompt\n"
		"      --chat-template NAME  instead of the model's own (lumen chat --list-templates)\n"
		"      --list-templates    the template names, and exit\n"
		"  -n, --n-predict N       at most N tokens an answer (default: until the end of the turn)\n"
		CLI_SAMPLING_HELP
		"      --seed S            of the sampler (default: random)\n"
		CLI_DEVICE_HELP
		"      --stats             statistics after each answer\n"
		CLI_SPEC_HELP
		"In the conversation: /bye ends it (or Ctrl-D, or Ctrl-C twice at the prompt),\n"
		"/clear starts a new one, /stats shows the last answer's statistics, /? lists them.\n"
		"A line ending in \\ continues on the next; \"\"\" opens and closes a block of lines.\n"
		"Ctrl-C during an answer stops the answer.\n");
}

struct chat_opts {
	const char *model, *system, *tmpl;
	struct lumen_generate_params gen;
	struct cli_spec spec;
	enum lumen_backend backend;
	uint32_t threads, ctx;
	bool seed_given, stats, n_given;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* the conversation: its messages and what the KV cache holds of it */
struct chat {
	struct lumen_chat_message *msgs;
	size_t n, cap;
	size_t n_keep;		/* the system prompt survives /clear */
	char *kv_text;		/* the text the session holds (or will) */
	size_t kv_len;
	char *answer;		/* the answer being streamed */
	size_t answer_len, answer_cap;
	bool tty;
};

static int add_message(struct chat *c, const char *role, const char *text)
{
	char *copy = strdup(text);

	if (!copy)
		return -1;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct lumen_chat_message *m = realloc(c->msgs, cap * sizeof(*m));

		if (!m) {
			free(copy);
			return -1;
		}
		c->msgs = m;
		c->cap = cap;
	}
	c->msgs[c->n].role = role;
	c->msgs[c->n].content = copy;
	c->n++;
	return 0;
}

static void drop_messages(struct chat *c, size_t keep)
{
	while (c->n > keep)
		free((char *)c->msgs[--c->n].content);
}

static int append(char **buf, size_t *len, size_t *cap, const char *s,
		  size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t nc = (*len + n + 1) * 2;
		char *nb = realloc(*buf, nc);

		if (!nb)
			return -1;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}

/* the rendering of the first @n messages, in a buffer to free() */
static char *render(const struct lumen_model *m, const char *tmpl,
		    const struct chat *c, size_t n, bool add_assistant)
{
	int len = lumen_chat_apply_template(m, tmpl, c->msgs, n, add_assistant,
					    NULL, 0);
	char *buf;

	if (len < 0)
		return NULL;
	buf = malloc((size_t)len + 1);
	if (buf)
		lumen_chat_apply_template(m, tmpl, c->msgs, n, add_assistant,
					  buf, (size_t)len + 1);
	return buf;
}

static int stream(void *data, int32_t id, const char *piece, size_t len)
{
	struct chat *c = data;
	size_t cap = c->answer_cap;

	(void)id;
	if (interrupted)
		return 1;
	fwrite(piece, 1, len, stdout);
	fflush(stdout);
	if (append(&c->answer, &c->answer_len, &cap, piece, len))
		return 1;
	c->answer_cap = cap;
	return 0;
}

static double per_s(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

static void print_stats(const struct lumen_generate_stats *st,
			const struct lumen_session *s)
{
	uint32_t decoded = st->n_generated ? st->n_generated - 1 : 0;

	fprintf(stderr, "lumen: prefill          %10.2f ms / %5u tokens (%9.2f tok/s)\n",
		st->prefill_ns / 1e6, st->n_prompt, per_s(st->n_prompt, st->prefill_ns));
	fprintf(stderr, "lumen: time to first token %7.2f ms\n", st->first_token_ns / 1e6);
	fprintf(stderr, "lumen: decode           %10.2f ms / %5u tokens (%9.2f tok/s)\n",
		st->decode_ns / 1e6, decoded, per_s(decoded, st->decode_ns));
	fprintf(stderr, "lumen: context          %10u of %u positions used\n",
		lumen_session_pos(s), lumen_session_ctx(s));
}

/*
 * One line of input, without its newline, in *line (grown as needed).
 * 1: a line; 0: end of input; -1: Ctrl-C.
 */
static int read_line(char **line, size_t *cap, const char *prompt, bool tty)
{
	sigset_t block, orig;
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	ssize_t n;
	int r;

	if (tty) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	/*
	 * A Ctrl-C between the prompt and the read must not be lost: wait
	 * for input with SIGINT blocked and let ppoll() take it atomically
	 * (stdin is unbuffered, so no line can wait in stdio's buffer)
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	r = interrupted ? -1 : ppoll(&in, 1, NULL, &orig);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (r < 0 && (interrupted || errno == EINTR))
		return -1;
	errno = 0;
	n = getline(line, cap, stdin);
	if (n < 0) {
		if (interrupted || errno == EINTR) {
			clearerr(stdin);
			return -1;
		}
		return 0;
	}
	if (n && (*line)[n - 1] == '\n')
		(*line)[--n] = 0;
	return 1;
}

/*
 * One message: a line, lines joined by a trailing backslash, or a
 * """ block. 1: *msg holds it; 0: end of input; -1: Ctrl-C.
 */
static int read_message(char **msg, size_t *msg_len, bool tty)
{
	char *line = NULL;
	size_t cap = 0, mcap = 0;
	bool block = false;
	int r;

	*msg_len = 0;
	free(*msg);
	*msg = NULL;
	for (;;) {
		size_t n;

		r = read_line(&line, &cap, *msg_len || block ? "... " : ">>> ",
			      tty);
		if (r <= 0)
			break;
		n = strlen(line);
		if (!block && !*msg_len && !strncmp(line, "\"\"\"", 3)) {
			block = true;
			memmove(line, line + 3, n - 2);
			n -= 3;
			if (n >= 3 && !strcmp(line + n - 3, "\"\"\"")) {
				n -= 3;	/* opened and closed on one line */
				block = false;
			}
			if (append(msg, msg_len, &mcap, line, n))
				break;
			if (!block)
				break;
			continue;
		}
		if (block) {
			bool end = n >= 3 && !strcmp(line + n - 3, "\"\"\"");

			if (*msg_len && append(msg, msg_len, &mcap, "\n", 1))
				break;
			if (append(msg, msg_len, &mcap, line, end ? n - 3 : n))
				break;
			if (end)
				break;
			continue;
		}
		if (n && line[n - 1] == '\\') {
			if (append(msg, msg_len, &mcap, line, n - 1) ||
			    append(msg, msg_len, &mcap, "\n", 1))
				break;
			continue;
		}
		if (append(msg, msg_len, &mcap, line, n))
			break;
		break;
	}
	free(line);
	if (r > 0 && !*msg) {
		*msg = strdup("");
		if (!*msg)
			return 0;
	}
	return r;
}

/*
 * The text to prefill for the conversation in @c: what its rendering
 * adds to what the session holds. When the session's text is not a
 * prefix of the rendering (a template that trims answers), the part after
 * the rendering of the messages before the last, as llama.cpp does.
 */
static const char *new_text(const struct chat *c, const char *now,
			    const char *before)
{
	size_t bl;

	if (!c->kv_len)
		return now;
	if (!strncmp(now, c->kv_text, c->kv_len))
		return now + c->kv_len;
	bl = before ? strlen(before) : 0;
	if (before && !strncmp(now, before, bl))
		return now + bl;
	return NULL;
}

/* what the model said, now part of the session's text */
static int record_answer(struct chat *c, const struct lumen_model *m,
			 const struct lumen_generate_stats *st,
			 int32_t last_id, const char *prompt_text)
{
	size_t kcap = c->kv_len + 1;

	if (append(&c->kv_text, &c->kv_len, &kcap, prompt_text,
		   strlen(prompt_text)) ||
	    append(&c->kv_text, &c->kv_len, &kcap, c->answer ? c->answer : "",
		   c->answer_len))
		return -1;
	if (st->hit_eos) {
		/* the end-of-turn token is in the session too (run next turn) */
		char piece[128];
		long n = lumen_token_to_piece(lumen_model_tokenizer(m), last_id,
					      LUMEN_DETOK_SPECIAL, piece,
					      sizeof(piece));

		if (n > 0 && (size_t)n <= sizeof(piece) &&
		    append(&c->kv_text, &c->kv_len, &kcap, piece, (size_t)n))
			return -1;
	}
	return 0;
}

struct last_token {
	struct chat *c;
	int32_t id;
};

static int parse(int argc, char **argv, struct chat_opts *o)
{
	enum { O_TEMPLATE = 256, O_LIST, O_STATS };
	static const struct option longopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "system", required_argument, 0, 's' },
		{ "chat-template", required_argument, 0, O_TEMPLATE },
		{ "list-templates", no_argument, 0, O_LIST },
		{ "n-predict", required_argument, 0, 'n' },
		CLI_SAMPLING_LONGOPTS,
		CLI_DEVICE_LONGOPTS,
		{ "stats", no_argument, 0, O_STATS },
		CLI_SPEC_LONGOPTS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "m:s:n:t:c:h", longopts, NULL)) != -1) {
		r = cli_sampling_option(c, optarg, &o->gen.sampling,
					&o->seed_given);
		if (!r)	/* --spec, --draft, --draft-max */
			r = cli_spec_option(c, optarg, &o->spec);
		if (!r)
			r = cli_device_option(c, optarg, &o->backend, &o->threads,
					      &o->ctx);
		if (r < 0)
			return -1;
		if (r)
			continue;
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 's':
			o->system = optarg;
			break;
		case O_TEMPLATE:
			o->tmpl = optarg;
			break;
		case O_LIST:
			for (const char *const *n = lumen_chat_template_names(); *n; n++)
				puts(*n);
			exit(CLI_OK);
		case 'n':
			if (cli_u32("-n", optarg, 1, 1u << 24, &o->gen.n_predict))
				return -1;
			o->n_given = true;
			break;
		case O_STATS:
			o->stats = true;
			break;
		default:
			return cli_finish_parse("chat", c, argc, argv, o->model, usage);
		}
	}
	if (cli_finish_parse("chat", c, argc, argv, o->model, usage))
		return -1;
	if (o->tmpl && !lumen_chat_template_detect(o->tmpl)) {
		lumen_chat_apply_template(NULL, o->tmpl, NULL, 0, true, NULL, 0);
		cli_error("chat: --chat-template: %s", lumen_last_error());
		return -1;
	}
	return 0;
}

static int last_id_cb(void *data, int32_t id, const char *piece, size_t len)
{
	struct last_token *lt = data;

	lt->id = id;
	return stream(lt->c, id, piece, len);
}

/* the template to use and what ends a turn; prints why not */
static int setup_template(struct lumen_model *m, struct chat_opts *o,
			  int32_t *stops, size_t cap, size_t *n_stops)
{
	int n;

	if (!o->tmpl && !lumen_chat_template_name(m)) {
		/* the model's text was not recognised, or there is none */
		n = lumen_chat_stop_ids(m, NULL, stops, cap);
		if (n < 0) {
			cli_error("%s; the model's template can be overridden with --chat-template NAME",
				  lumen_last_error());
			return -1;
		}
		fprintf(stderr, "lumen: the model has no chat template; using chatml (--chat-template NAME to choose)\n");
	} else {
		n = lumen_chat_stop_ids(m, o->tmpl, stops, cap);
		if (n < 0)
			return cli_lib_error("--chat-template", n), -1;
	}
	*n_stops = (size_t)n < cap ? (size_t)n : cap;
	return 0;
}

static void help_commands(void)
{
	printf("Available commands:\n"
	       "  /clear   forget the conversation (the system prompt stays)\n"
	       "  /stats   statistics of the last answer\n"
	       "  /bye     exit\n"
	       "  /?       this help\n"
	       "A line ending in \\ continues on the next; \"\"\" opens and closes a block.\n");
}

/*
 * One user turn: render, prefill what is new, stream the answer.
 * 0: go on; -1: a failure that ends the conversation (printed).
 */
static int turn(struct lumen_session *s, struct lumen_model *m,
		struct chat_opts *o, struct chat *c, const char *text,
		struct lumen_generate_stats *st)
{
	struct last_token lt = { .c = c, .id = -1 };
	struct lumen_generate_params gen = o->gen;
	char *before, *now;
	const char *delta;
	int err;

	before = render(m, o->tmpl, c, c->n, false);
	if (add_message(c, "user", text)) {
		free(before);
		cli_error("out of memory");
		return -1;
	}
	now = render(m, o->tmpl, c, c->n, true);
	if (!before || !now) {
		free(before);
		free(now);
		drop_messages(c, c->n - 1);
		return cli_lib_error("chat template", LUMEN_E_INVAL), -1;
	}
	delta = new_text(c, now, c->n > 1 ? before : NULL);
	if (!delta) {
		/* the session does not hold a prefix of this: start it again */
		lumen_session_reset(s);
		c->kv_len = 0;
		delta = now;
	}
	c->answer_len = 0;
	if (c->answer)
		c->answer[0] = 0;
	gen.on_token = last_id_cb;
	gen.data = &lt;
	if (!o->n_given)
		gen.n_predict = lumen_session_ctx(s);
	interrupted = 0;
	err = lumen_generate(s, delta, strlen(delta), &gen, st);
	if (err == LUMEN_E_CONTEXT) {
		drop_messages(c, c->n - 1);
		free(before);
		free(now);
		fprintf(stderr, "lumen: this message does not fit: the conversation holds %u of %u positions; /clear starts a new one\n",
			lumen_session_pos(s), lumen_session_ctx(s));
		return 0;
	}
	if (err) {
		free(before);
		free(now);
		return cli_lib_error("chat", err), -1;
	}
	if (!c->answer_len || c->answer[c->answer_len - 1] != '\n')
		putchar('\n');
	putchar('\n');
	fflush(stdout);
	if (interrupted)
		fprintf(stderr, "lumen: answer stopped (Ctrl-C)\n");
	if (record_answer(c, m, st, lt.id, delta) ||
	    add_message(c, "assistant", c->answer ? c->answer : "")) {
		free(before);
		free(now);
		cli_error("out of memory");
		return -1;
	}
	free(before);
	free(now);
	if (st->hit_context)
		fprintf(stderr, "lumen: the context is full (%u positions): the answer was cut; /clear starts a new conversation\n",
			lumen_session_ctx(s));
	if (o->stats) {
		print_stats(st, s);
		cli_spec_print_stats(&o->spec, m, st);
	}
	interrupted = 0;
	return 0;
}

static int converse(struct lumen_session *s, struct lumen_model *m,
		    struct chat_opts *o, struct chat *c)
{
	struct lumen_generate_stats st = { 0 };
	char *msg = NULL;
	size_t len;
	bool have_stats = false, warned = false;
	int ret = CLI_OK;

	for (;;) {
		int r;

		interrupted = 0;
		r = read_message(&msg, &len, c->tty);
		if (r < 0) {
			/* Ctrl-C at the prompt: once a hint, twice the end */
			if (warned)
				break;
			warned = true;
			printf("\n(Ctrl-C again or /bye to exit)\n");
			continue;
		}
		warned = false;
		if (r == 0) {
			if (c->tty)
				putchar('\n');
			break;
		}
		if (!strcmp(msg, "/bye") || !strcmp(msg, "/exit"))
			break;
		if (!strcmp(msg, "/clear")) {
			lumen_session_reset(s);
			drop_messages(c, c->n_keep);
			c->kv_len = 0;
			have_stats = false;
			printf("Cleared session context\n");
			continue;
		}
		if (!strcmp(msg, "/stats")) {
			if (have_stats) {
				print_stats(&st, s);
				cli_spec_print_stats(&o->spec, m, &st);
			} else
				printf("No answer yet.\n");
			continue;
		}
		if (!strcmp(msg, "/?") || !strcmp(msg, "/help")) {
			help_commands();
			continue;
		}
		if (msg[0] == '/' && !strchr(msg, ' ') && !strchr(msg, '\n')) {
			printf("Unknown command '%s'. Type /? for help\n", msg);
			continue;
		}
		if (!msg[0])
			continue;
		if (turn(s, m, o, c, msg, &st)) {
			ret = CLI_FAIL;
			break;
		}
		have_stats = true;
	}
	free(msg);
	return ret;
}

int cmd_chat(int argc, char **argv)
{
	struct chat_opts o = {
		.gen = lumen_generate_default_params(),
		.backend = LUMEN_BACKEND_AUTO,
	};
	struct chat c = { 0 };
	struct lumen_device *dev = NULL;
	struct lumen_model *m = NULL;
	struct lumen_session *s = NULL;
	struct sigaction sa = { 0 }, old;
	int32_t stops[16];
	size_t n_stops = 0;
	int ret = CLI_FAIL, err;

	if (parse(argc, argv, &o))
		return CLI_USAGE;
	if (!o.seed_given)
		o.gen.sampling.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	c.tty = isatty(STDIN_FILENO);
	/* see read_line(): what was read is in our buffers, none in stdio's */
	setvbuf(stdin, NULL, _IONBF, 0);
	if (cli_open_device(o.backend, o.threads, &dev))
		return CLI_FAIL;
	if (cli_load_model(dev, o.model, o.ctx, &m, NULL))
		goto out;
	if (setup_template(m, &o, stops, sizeof(stops) / sizeof(stops[0]),
			   &n_stops))
		goto out;
	o.gen.stop_ids = stops;
	o.gen.n_stop_ids = n_stops;
	if (cli_spec_setup(&o.spec, dev, o.ctx, &o.gen))
		goto out;
	err = lumen_session_create(m, o.ctx, &s);
	if (err) {
		cli_lib_error("--ctx", err);
		goto out;
	}
	if (o.system && add_message(&c, "system", o.system)) {
		cli_error("out of memory");
		goto out;
	}
	c.n_keep = c.n;
	/* no SA_RESTART: Ctrl-C interrupts the read at the prompt */
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	if (c.tty)
		fprintf(stderr, "lumen: chat with %s (template %s); /? for help, /bye to exit\n",
			o.model, o.tmpl ? lumen_chat_template_detect(o.tmpl) :
			lumen_chat_template_name(m) ? lumen_chat_template_name(m) :
			"chatml");
	ret = converse(s, m, &o, &c);
	sigaction(SIGINT, &old, NULL);
out:
	drop_messages(&c, 0);
	free(c.msgs);
	free(c.kv_text);
	free(c.answer);
	lumen_session_free(s);
	cli_spec_free(&o.spec);
	lumen_model_free(m);
	lumen_device_close(dev);
	return ret;
}
