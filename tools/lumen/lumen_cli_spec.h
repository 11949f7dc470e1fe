/* SPDX-License-Identifier: MIT */
/*
 * Speculative-decoding options of lumen run, chat and serve: --spec
 * ngram|draft|mtp, --draft MODEL, --draft-max N, --draft-always. A
 * subcommand adds CLI_SPEC_LONGOPTS to its options, CLI_SPEC_HELP to its
 * usage, hands each option to cli_spec_option(), calls cli_spec_setup()
 * once its model is loaded (which sets params->spec) and cli_spec_free()
 * at the end; cli_spec_print_stats() adds the acceptance figures.
 */
#ifndef LUMEN_CLI_SPEC_H
#define LUMEN_CLI_SPEC_H

#include <stdio.h>

#include "lumen_cli.h"

enum { CLI_O_SPEC = 0x5300, CLI_O_DRAFT, CLI_O_DRAFT_MAX, CLI_O_DRAFT_ALWAYS };

#define CLI_SPEC_LONGOPTS \
	{ "spec", required_argument, 0, CLI_O_SPEC }, \
	{ "draft", required_argument, 0, CLI_O_DRAFT }, \
	{ "draft-max", required_argument, 0, CLI_O_DRAFT_MAX }, \
	{ "draft-always", no_argument, 0, CLI_O_DRAFT_ALWAYS }

#define CLI_SPEC_HELP \
	"      --spec KIND         speculative decoding: ngram (prompt lookup), draft\n" \
	"                          (a draft model, --draft), mtp (the model's own\n" \
	"                          multi-token-prediction head), none (default)\n" \
	"      --draft MODEL       the draft model (same vocabulary); implies --spec draft\n" \
	"      --draft-max N       draft tokens per verification (default: the model's, 8)\n" \
	"      --draft-always      draft every round; by default greedy decoding pauses\n" \
	"                          drafting while verifying costs more per token than\n" \
	"                          decoding (a compute-bound CPU)\n"

struct cli_spec {
	struct lumen_spec_params params;
	const char *draft_path;
	struct lumen_model *draft;
};

/* 1: @c was one of ours and @arg is good; 0: not ours; -1: bad (printed) */
int cli_spec_option(int c, const char *arg, struct cli_spec *sp);
/* load the draft model on @dev, point @gen->spec at the parameters */
int cli_spec_setup(struct cli_spec *sp, struct lumen_device *dev,
		   uint32_t ctx, struct lumen_generate_params *gen);
void cli_spec_print_stats(const struct cli_spec *sp,
			  const struct lumen_model *m,
			  const struct lumen_generate_stats *st);
void cli_spec_free(struct cli_spec *sp);

#endif /* LUMEN_CLI_SPEC_H */
