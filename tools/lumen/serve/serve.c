// SPDX-License-Identifier: MIT
/*
 * lumen serve: the model behind an OpenAI-compatible HTTP endpoint, so
 * that any app on the glasses can use it (serve_http.c: the endpoint;
 * serve_gen.c: sharing the device; serve_request.c: reading requests).
 */
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lumen_cli.h"
#include "lumen_cli_spec.h"
#include "serve_http.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lumen serve -m MODEL [options]\n"
		"  -m, --model FILE        a .lnpu, or a .gguf (compiled and cached)\n"
		"      --host ADDR         where to listen (default 127.0.0.1: this machine only)\n"
		"      --port N            (default 8080; 0: a free port, printed)\n"
		"      --parallel N        requests generating at once, each in its own\n"
		"                          session (KV cache) (default 2)\n"
		"      --queue N           requests waiting for a session; more get 429 (default 16)\n"
		"      --max-tokens N      the largest max_tokens, and the default (default 512)\n"
		"      --max-body BYTES    the largest request body; more gets 413 (default 1048576)\n"
		"      --api-key KEY       require 'Authorization: Bearer KEY' on /v1/\n"
		"                          (default: $LUMEN_API_KEY, else no key)\n"
		"      --alias NAME        the model's id in the API (default: the file's name)\n"
		CLI_DEVICE_HELP
		"  (-c, --ctx: the positions of each session)\n"
		CLI_SPEC_HELP
		"  (a request may choose with {\"lumen\": {\"spec\": \"none\"|\"ngram\"|\"draft\"}})\n");
}

struct serve_opts {
	const char *model, *alias, *api_key;
	struct serve_http_options http;
	enum lumen_backend backend;
	uint32_t threads, ctx, parallel, queue, max_tokens;
	struct cli_spec spec;
};

static int parse(int argc, char **argv, struct serve_opts *o)
{
	enum { O_HOST = 256, O_PORT, O_PARALLEL, O_QUEUE, O_MAX_TOKENS,
	       O_MAX_BODY, O_API_KEY, O_ALIAS };
	static const struct option longopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "host", required_argument, 0, O_HOST },
		{ "port", required_argument, 0, O_PORT },
		{ "parallel", required_argument, 0, O_PARALLEL },
		{ "queue", required_argument, 0, O_QUEUE },
		{ "max-tokens", required_argument, 0, O_MAX_TOKENS },
		{ "max-body", required_argument, 0, O_MAX_BODY },
		{ "api-key", required_argument, 0, O_API_KEY },
		{ "alias", required_argument, 0, O_ALIAS },
		CLI_DEVICE_LONGOPTS,
		CLI_SPEC_LONGOPTS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	uint32_t v;
	int c;

	while ((c = getopt_long(argc, argv, "m:t:c:h", longopts, NULL)) != -1) {
		int r = cli_spec_option(c, optarg, &o->spec);

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
		case O_HOST:
			o->http.host = optarg;
			break;
		case O_PORT:
			if (cli_u32("--port", optarg, 0, 65535, &v))
				return -1;
			o->http.port = (uint16_t)v;
			break;
		case O_PARALLEL:
			if (cli_u32("--parallel", optarg, 1, 64, &o->parallel))
				return -1;
			break;
		case O_QUEUE:
			if (cli_u32("--queue", optarg, 0, 4096, &o->queue))
				return -1;
			break;
		case O_MAX_TOKENS:
			if (cli_u32("--max-tokens", optarg, 1, 1u << 20, &o->max_tokens))
				return -1;
			break;
		case O_MAX_BODY:
			if (cli_u32("--max-body", optarg, 64, 1u << 30, &v))
				return -1;
			o->http.max_body = v;
			break;
		case O_API_KEY:
			o->api_key = optarg;
			break;
		case O_ALIAS:
			o->alias = optarg;
			break;
		default:
			return cli_finish_parse("serve", c, argc, argv, o->model, usage);
		}
	}
	if (cli_finish_parse("serve", c, argc, argv, o->model, usage))
		return -1;
	if (o->api_key && !o->api_key[0]) {
		cli_error("serve: --api-key: the key is empty");
		return -1;
	}
	return 0;
}

/* the model's id: --alias, else the file name without its extension */
static void model_id(const struct serve_opts *o, char *out, size_t len)
{
	char path[1024], *base, *dot;

	if (o->alias) {
		snprintf(out, len, "%s", o->alias);
		return;
	}
	snprintf(path, sizeof(path), "%s", o->model);
	base = basename(path);
	dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = 0;
	snprintf(out, len, "%s", base);
}

/*
 * The driver runs HIGH jobs only for CAP_SYS_NICE (in the initial user
 * namespace: a container's root has it only in its own). Asking it is the
 * one sure way: one job, at start.
 */
static bool driver_takes_high(struct serve_state *st)
{
	struct lumen_session *s = st->sessions[0];
	int32_t bos = lumen_tokenizer_bos(lumen_model_tokenizer(st->model));
	bool ok;

	if (strcmp(st->dev_info.backend, "npu"))
		return false;
	if (bos < 0)
		bos = 0;
	ok = !lumen_session_set_priority(s, LUMEN_PRIORITY_HIGH) &&
	     !lumen_session_prefill(s, &bos, 1);
	lumen_session_set_priority(s, LUMEN_PRIORITY_NORMAL);
	lumen_session_reset(s);
	return ok;
}

/*
 * --spec/--draft: the draft model loaded, and every check a request's
 * speculator would make (a verify program, the same vocabulary, mtp)
 * made now on a speculator of the first session, so that a bad choice
 * stops the server at start rather than failing each request.
 */
static int setup_spec(struct serve_state *st, struct cli_spec *spec)
{
	struct lumen_generate_params gen = { 0 };
	struct lumen_sampler_params greedy = lumen_sampler_default_params();
	struct lumen_speculator *probe;
	int err;

	if (cli_spec_setup(spec, st->dev, lumen_session_ctx(st->sessions[0]), &gen))
		return -1;
	if (!gen.spec)
		return 0;
	greedy.temperature = 0;
	err = lumen_speculator_create(st->sessions[0], gen.spec, &greedy, &probe);
	if (err) {
		cli_lib_error(spec->params.kind == LUMEN_SPEC_DRAFT ?
			      "serve: --draft" : "serve: --spec", err);
		return -1;
	}
	lumen_speculator_free(probe);
	st->spec = *gen.spec;
	return 0;
}

static bool is_loopback(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") ||
	       !strcmp(host, "localhost") || !strncmp(host, "127.", 4);
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = {
		.http = {
			.host = "127.0.0.1",
			.port = 8080,
			.max_body = 1 << 20,
		},
		.backend = LUMEN_BACKEND_AUTO,
		.parallel = 2,
		.queue = 16,
		.max_tokens = 512,
	};
	struct serve_state st = { 0 };
	struct MHD_Daemon *daemon = NULL;
	sigset_t stop_signals;
	uint16_t port;
	int ret = CLI_FAIL, err, sig;

	if (parse(argc, argv, &o))
		return CLI_USAGE;
	if (!o.api_key && getenv("LUMEN_API_KEY") && getenv("LUMEN_API_KEY")[0])
		o.api_key = getenv("LUMEN_API_KEY");
	if (!is_loopback(o.http.host) && !o.api_key)
		cli_error("serve: warning: listening on %s without --api-key: anyone who reaches this address can use the model",
			  o.http.host);
	o.http.max_connections = o.parallel + o.queue + 16;
	st.parallel = o.parallel;
	st.queue = o.queue;
	st.limits.max_tokens = o.max_tokens;
	st.limits.max_messages = 1024;
	st.api_key = o.api_key;
	st.created = (uint64_t)time(NULL);
	model_id(&o, st.model_id, sizeof(st.model_id));
	pthread_mutex_init(&st.mu, NULL);
	serve_gate_init(&st.slots, o.parallel);
	serve_gate_init(&st.device, 1);

	if (cli_open_device(o.backend, o.threads, &st.dev))
		goto out;
	if (cli_load_model(st.dev, o.model, o.ctx, &st.model, NULL))
		goto out;
	lumen_device_get_info(st.dev, &st.dev_info);
	st.sessions = calloc(o.parallel, sizeof(*st.sessions));
	st.session_busy = calloc(o.parallel, sizeof(*st.session_busy));
	st.draft_sessions = calloc(o.parallel, sizeof(*st.draft_sessions));
	if (!st.sessions || !st.session_busy || !st.draft_sessions) {
		cli_error("serve: out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < o.parallel; i++) {
		err = lumen_session_create(st.model, o.ctx, &st.sessions[i]);
		if (err) {
			cli_lib_error("serve: a session (fewer --parallel, or a smaller --ctx?)", err);
			goto out;
		}
	}

	if (setup_spec(&st, &o.spec))
		goto out;
	st.high_to_driver = driver_takes_high(&st);
	if (!strcmp(st.dev_info.backend, "npu") && !st.high_to_driver)
		cli_error("serve: the driver runs no high-priority job for this process (no CAP_SYS_NICE): \"high\" requests go first here, as \"normal\" jobs there");

	/* the server's threads inherit the mask: only this one takes them */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (serve_http_start(&st, &o.http, &daemon, &port))
		goto out;
	printf("lumen: serving %s on %s (%u session%s%s%s) at http://%s%s%s:%u/v1\n",
	       st.model_id, st.dev_info.backend, o.parallel,
	       o.parallel == 1 ? "" : "s",
	       st.spec.kind != LUMEN_SPEC_NONE ? ", speculative " : "",
	       st.spec.kind != LUMEN_SPEC_NONE ? serve_spec_name((int)st.spec.kind) : "",
	       strchr(o.http.host, ':') ? "[" : "",
	       o.http.host, strchr(o.http.host, ':') ? "]" : "", port);
	fflush(stdout);
	sigwait(&stop_signals, &sig);
	fprintf(stderr, "lumen: serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	serve_http_stop(daemon);
	ret = CLI_OK;
out:
	for (uint32_t i = 0; st.sessions && i < o.parallel; i++)
		lumen_session_free(st.sessions[i]);
	for (uint32_t i = 0; st.draft_sessions && i < o.parallel; i++)
		lumen_session_free(st.draft_sessions[i]);
	free(st.sessions);
	free(st.draft_sessions);
	free(st.session_busy);
	cli_spec_free(&o.spec);
	lumen_model_free(st.model);
	lumen_device_close(st.dev);
	serve_gate_destroy(&st.slots);
	serve_gate_destroy(&st.device);
	pthread_mutex_destroy(&st.mu);
	return ret;
}
