/* SPDX-License-Identifier: MIT */
/*
 * Chat templates: a conversation rendered into the prompt text an
 * instruct model was trained on, the way llama.cpp's built-in templates
 * render it (llama_chat_apply_template, not a Jinja engine).
 *
 * A model's GGUF carries its template as Jinja text
 * (tokenizer.chat_template, kept in the .lnpu by lumenc); lumen recognises
 * the family from that text with llama.cpp's rules and renders it with
 * its own code. A template can also be named: "chatml", "llama3", ...
 * (lumen_chat_template_names()).
 *
 * The rendering holds the turn markers as text ("<|im_start|>"); tokenize
 * it with LUMEN_TOKENIZE_PARSE_SPECIAL (lumen_generate() does) so that
 * they become the control tokens. It never holds BOS: the tokenizer adds
 * it at the start of a conversation, as llama.cpp does.
 *
 * man lumen_chat_apply_template(3) describes it.
 */
#ifndef LUMEN_CHAT_H
#define LUMEN_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lumen/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lumen_model;

/**
 * struct lumen_chat_message - one turn of a conversation.
 * @role: "system", "user" or "assistant" (some templates know more, e.g.
 *	"tool"; a role a template has no place for is left out, as
 *	llama.cpp does).
 * @content: the turn's text (UTF-8, NUL-terminated).
 */
struct lumen_chat_message {
	const char *role;
	const char *content;
};

/*
 * Render @n_msgs messages with the template @tmpl: a name from
 * lumen_chat_template_names() or a template's Jinja text, recognised by
 * family; NULL: the model's own tokenizer.chat_template (a model without
 * one gets "chatml", llama.cpp's default). @model may be NULL when @tmpl
 * is given. With @add_assistant, the rendering ends with the opening of
 * an assistant turn, for the model to answer.
 *
 * Writes at most @size bytes to @buf including a NUL (@buf may be NULL
 * when @size is 0). Returns the rendering's length without the NUL, which
 * may exceed @size - 1 (like snprintf: call again with a bigger buffer),
 * or a negative LUMEN_E_*: LUMEN_E_INVAL for a template lumen does not
 * recognise (lumen_last_error() names the supported ones) or a message
 * without a role or content.
 */
int lumen_chat_apply_template(const struct lumen_model *model,
			      const char *tmpl,
			      const struct lumen_chat_message *msgs,
			      size_t n_msgs, bool add_assistant,
			      char *buf, size_t size);

/*
 * The family of the model's own template ("chatml", "llama3", ...), or
 * NULL when the model carries none or lumen does not recognise it.
 */
const char *lumen_chat_template_name(const struct lumen_model *model);

/*
 * The family @tmpl (a name or a Jinja text) is recognised as, or NULL
 * when none; lumen_last_error() is left alone (a lookup).
 */
const char *lumen_chat_template_detect(const char *tmpl);

/* the supported names, NULL-terminated, in a stable order */
const char *const *lumen_chat_template_names(void);

/*
 * The texts that end an assistant turn in template @tmpl (a name or a
 * Jinja text; NULL: the model's own, as lumen_chat_apply_template()),
 * e.g. "<|im_end|>", "<|eot_id|>", "<end_of_turn>": NULL-terminated,
 * possibly empty (then the model's EOS ends a turn). NULL for a template
 * lumen does not recognise.
 */
const char *const *lumen_chat_template_stops(const struct lumen_model *model,
					     const char *tmpl);

/*
 * The token ids that end an assistant turn: the model's EOS and each of
 * lumen_chat_template_stops() that is one token of its vocabulary, no id
 * twice. Writes at most @cap ids to @ids; returns how many there are (may
 * exceed @cap), or LUMEN_E_INVAL for a template lumen does not recognise.
 * Pass them to lumen_generate() as lumen_generate_params.stop_ids.
 */
int lumen_chat_stop_ids(const struct lumen_model *model, const char *tmpl,
			int32_t *ids, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* LUMEN_CHAT_H */
