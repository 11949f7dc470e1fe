// SPDX-License-Identifier: MIT
/* Speculative-decoding options of the lumen subcommands (lumen_cli_spec.h). */
#include <stdio.h>
#include <string.h>

#include "lumen_cli_spec.h"

int cli_spec_option(int c, const char *arg, struct cli_spec *sp)
{
	int kind;

	switch (c) {
	case CLI_O_SPEC:
		kind = lumen_spec_from_name(arg);
		if (kind < 0) {
			cli_error("--spec: '%s' is not none, ngram, draft or mtp", arg);
			return -1;
		}
		sp->params.kind = (enum lumen_spec_kind)kind;
		return 1;
	case CLI_O_DRAFT:
		sp->draft_path = arg;
		if (sp->params.kind == LUMEN_SPEC_NONE)
			sp->params.kind = LUMEN_SPEC_DRAFT;
		return 1;
	case CLI_O_DRAFT_ALWAYS:
		sp->params.always_draft = true;
		return 1;
	case CLI_O_DRAFT_MAX:
		return cli_u32("--draft-max", arg, 1, 255,
			       &sp->params.draft_max) ? -1 : 1;
	}
	return 0;
}

int cli_spec_setup(struct cli_spec *sp, struct lumen_device *dev,
		   uint32_t ctx, struct lumen_generate_params *gen)
{
	double ms;

	if (sp->params.kind == LUMEN_SPEC_NONE) {
		if (sp->draft_path || sp->params.draft_max || sp->params.always_draft)
			cli_error("--draft/--draft-max/--draft-always without --spec: decoding plainly");
		return 0;
	}
	if (sp->params.kind == LUMEN_SPEC_DRAFT && !sp->draft_path) {
		cli_error("--spec draft needs the draft model: --draft MODEL");
		return -1;
	}
	if (sp->params.kind != LUMEN_SPEC_DRAFT && sp->draft_path) {
		cli_error("--draft is for --spec draft");
		return -1;
	}
	if (sp->draft_path && cli_load_model(dev, sp->draft_path, ctx,
					     &sp->draft, &ms))
		return -1;
	sp->params.draft = sp->draft;
	gen->spec = &sp->params;
	return 0;
}

void cli_spec_print_stats(const struct cli_spec *sp,
			  const struct lumen_model *m,
			  const struct lumen_generate_stats *st)
{
	static const char *const name[] = { "none", "ngram", "draft", "mtp" };
	struct lumen_model_info info;
	uint64_t prefill, decode_subs;

	if (sp->params.kind == LUMEN_SPEC_NONE)
		return;
	lumen_model_get_info(m, &info);
	prefill = (st->n_prompt + info.prefill_chunk - 1) / info.prefill_chunk;
	decode_subs = st->submissions > prefill ? st->submissions - prefill : 0;
	fprintf(stderr, "lumen: speculative      %10s: %u of %u drafts accepted (%.1f%%), %u verifications\n",
		name[sp->params.kind], st->n_accepted, st->n_drafted,
		st->n_drafted ? 100.0 * st->n_accepted / st->n_drafted : 0.0,
		st->n_verify);
	/* the first token comes with the prefill; the others from decode/verify jobs */
	if (st->n_generated > 1 && decode_subs)
		fprintf(stderr, "lumen: tokens/submission %9.2f (%llu decode/verify submissions for %u tokens)\n",
			(double)(st->n_generated - 1) / (double)decode_subs,
			(unsigned long long)decode_subs, st->n_generated - 1);
}

void cli_spec_free(struct cli_spec *sp)
{
	lumen_model_free(sp->draft);
	sp->draft = NULL;
}
