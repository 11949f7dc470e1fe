// SPDX-License-Identifier: MIT
/*
 * lumen: run language models on the Lumen NPU (or the host CPU).
 * Subcommands in the habits of llama-cli, llama-bench and ollama.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_cli.h"

const char *cli_argv0_dir = ".";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lumen <command> [options]\n"
		"\n"
		"commands:\n"
		"  info    [-m MODEL] [--device D] [-t N]        the device, the backend and a model\n"
		"  run     -m MODEL -p PROMPT [-n N] [sampling options] [--device npu|cpu|auto]\n"
		"                                                 generate text, streamed\n"
		"  chat    -m MODEL [-s SYSTEM] [--chat-template NAME]\n"
		"                                                 a conversation with an instruct model\n"
		"  bench   -m MODEL [-p 64] [-n 64] [-r 5] [-t 1,2] [--json]\n"
		"                                                 prompt and generation speed\n"
		"  compile MODEL.gguf -o MODEL.lnpu [lumenc options]\n"
		"                                                 compile for the NPU (runs lumenc)\n"
		"  models                                         the compiled models of the cache\n"
		"  rm      NAME|ID... | --all                     remove compiled models from the cache\n"
		"  serve   -m MODEL [--host 127.0.0.1] [--port 8080] [--parallel N]\n"
		"                                                 an OpenAI-compatible HTTP endpoint\n"
		"\n"
		"MODEL is a .lnpu, or a .gguf compiled on first use into $LUMEN_CACHE/models.\n"
		"`lumen <command> --help` lists a command's options; man lumen(1) explains them.\n");
}

static void find_own_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);

	if (n > 0) {
		dir[n] = 0;
		cli_argv0_dir = dirname(dir);
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "info", cmd_info },
		{ "run", cmd_run },
		{ "chat", cmd_chat },
		{ "bench", cmd_bench },
		{ "compile", cmd_compile },
		{ "models", cmd_models },
		{ "rm", cmd_rm },
		{ "serve", cmd_serve },
	};

	find_own_dir();
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("lumen %s\n", LUMEN_VERSION_STRING);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (cmds[i].fn)
			return cmds[i].fn(argc - 1, argv + 1);
		cli_error("'%s' is not in this build of lumen (the static one, without libmicrohttpd)",
			  argv[1]);
		return CLI_USAGE;
	}
	cli_error("'%s' is not a command (info, run, chat, bench, compile, models, rm, serve)", argv[1]);
	return CLI_USAGE;
}
