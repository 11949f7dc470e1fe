// SPDX-License-Identifier: MIT
/*
 * Chat templates (<lumen/chat.h>): a template's Jinja text is recognised
 * by family from the marker strings it contains, in the order llama.cpp's
 * llm_chat_detect_template() tries them (the order matters: a Phi-3
 * template also has "<|user|>", a Falcon 3 one "<|assistant|>"), and each
 * family is rendered as llama.cpp's built-in renderer renders it, so that
 * a prompt is the same text llama-cli would feed the model.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_internal.h"

#include <lumen/chat.h>

#define STOPS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_STOPS ((const char *const[]){ NULL })
#define DS_EOS_TEXT "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"

/* every family: its id, its name (llama.cpp's), the texts that end a turn */
#define CHAT_FAMILIES(X) \
	X(CHATML, "chatml", STOPS("<|im_end|>", "<|endoftext|>")) \
	X(LLAMA2, "llama2", STOPS("</s>")) \
	X(LLAMA2_SYS, "llama2-sys", STOPS("</s>")) \
	X(LLAMA2_SYS_BOS, "llama2-sys-bos", STOPS("</s>")) \
	X(LLAMA2_SYS_STRIP, "llama2-sys-strip", STOPS("</s>")) \
	X(MISTRAL_V1, "mistral-v1", STOPS("</s>")) \
	X(MISTRAL_V3, "mistral-v3", STOPS("</s>")) \
	X(MISTRAL_V3_TEKKEN, "mistral-v3-tekken", STOPS("</s>")) \
	X(MISTRAL_V7, "mistral-v7", STOPS("</s>")) \
	X(MISTRAL_V7_TEKKEN, "mistral-v7-tekken", STOPS("</s>")) \
	X(PHI3, "phi3", STOPS("<|end|>", "<|endoftext|>")) \
	X(PHI4, "phi4", STOPS("<|im_end|>", "<|endoftext|>")) \
	X(FALCON3, "falcon3", STOPS("</s>", "<|endoftext|>")) \
	X(ZEPHYR, "zephyr", STOPS("<|endoftext|>", "</s>")) \
	X(MONARCH, "monarch", STOPS("</s>")) \
	X(GEMMA, "gemma", STOPS("<end_of_turn>")) \
	X(ORION, "orion", STOPS("</s>")) \
	X(OPENCHAT, "openchat", STOPS("<|end_of_turn|>")) \
	X(VICUNA, "vicuna", STOPS("</s>")) \
	X(VICUNA_ORCA, "vicuna-orca", STOPS("</s>")) \
	X(DEEPSEEK, "deepseek", STOPS("<|EOT|>")) \
	X(DEEPSEEK2, "deepseek2", STOPS(DS_EOS_TEXT)) \
	X(DEEPSEEK3, "deepseek3", STOPS(DS_EOS_TEXT)) \
	X(COMMAND_R, "command-r", STOPS("<|END_OF_TURN_TOKEN|>")) \
	X(LLAMA3, "llama3", STOPS("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>")) \
	X(CHATGLM3, "chatglm3", STOPS("<|user|>", "<|observation|>")) \
	X(CHATGLM4, "chatglm4", STOPS("<|user|>", "<|observation|>")) \
	X(GLMEDGE, "glmedge", STOPS("<|user|>", "<|observation|>")) \
	X(MINICPM, "minicpm", NO_STOPS) \
	X(EXAONE3, "exaone3", STOPS("[|endofturn|]")) \
	X(GRANITE, "granite", STOPS("<|end_of_text|>")) \
	X(MEGREZ, "megrez", STOPS("<|turn_end|>")) \
	X(LLAMA4, "llama4", STOPS("<|eot|>")) \
	X(BAILING, "bailing", NO_STOPS)

enum chat_family {
#define X(id, name, stops) CHAT_##id,
	CHAT_FAMILIES(X)
#undef X
	CHAT_COUNT,
	CHAT_UNKNOWN = -1,
};

static const char *const family_names[CHAT_COUNT + 1] = {
#define X(id, name, stops) name,
	CHAT_FAMILIES(X)
#undef X
	NULL
};

static const char *const *const family_stops[CHAT_COUNT] = {
#define X(id, name, stops) stops,
	CHAT_FAMILIES(X)
#undef X
};

/* the DeepSeek markers are full-width bars and U+2581 */
#define DS_BAR "\xef\xbd\x9c"
#define DS_SPACE "\xe2\x96\x81"
#define DS_EOS "<" DS_BAR "end" DS_SPACE "of" DS_SPACE "sentence" DS_BAR ">"
#define DS_USER "<" DS_BAR "User" DS_BAR ">"
#define DS_ASSISTANT "<" DS_BAR "Assistant" DS_BAR ">"
#define MINICPM_USER "<\xe7\x94\xa8\xe6\x88\xb7>"	/* <用户> */

const char *const *lumen_chat_template_names(void)
{
	return family_names;
}

static bool has(const char *t, const char *s)
{
	return strstr(t, s) != NULL;
}

static enum chat_family detect(const char *t)
{
	for (int i = 0; i < CHAT_COUNT; i++)
		if (!strcmp(t, family_names[i]))
			return i;
	if (has(t, "<|im_start|>"))
		/* SmolVLM's <|im_start|> is a BOS, its turns are not ChatML */
		return has(t, "<|im_sep|>") ? CHAT_PHI4 :
		       has(t, "<end_of_utterance>") ? CHAT_UNKNOWN :
		       CHAT_CHATML;
	if (!strncmp(t, "mistral", 7) || has(t, "[INST]")) {
		if (has(t, "[SYSTEM_PROMPT]"))
			return CHAT_MISTRAL_V7;
		if (has(t, "' [INST] ' + system_message") ||
		    has(t, "[AVAILABLE_TOOLS]")) {
			if (has(t, " [INST]"))
				return CHAT_MISTRAL_V1;
			if (has(t, "\"[INST]\""))
				return CHAT_MISTRAL_V3_TEKKEN;
			return CHAT_MISTRAL_V3;
		}
		if (has(t, "content.strip()"))
			return CHAT_LLAMA2_SYS_STRIP;
		if (has(t, "bos_token + '[INST]"))
			return CHAT_LLAMA2_SYS_BOS;
		if (has(t, "<<SYS>>"))
			return CHAT_LLAMA2_SYS;
		return CHAT_LLAMA2;
	}
	if (has(t, "<|assistant|>") && has(t, "<|end|>"))
		return CHAT_PHI3;
	if (has(t, "[gMASK]<sop>"))
		return CHAT_CHATGLM4;
	if (has(t, "<|assistant|>") && has(t, "<|user|>"))
		return has(t, "</s>") ? CHAT_FALCON3 : CHAT_GLMEDGE;
	if (has(t, "<|{{ item['role'] }}|>") && has(t, "<|begin_of_image|>"))
		return CHAT_GLMEDGE;
	if (has(t, "<|user|>") && has(t, "<|endoftext|>"))
		return CHAT_ZEPHYR;
	if (has(t, "bos_token + message['role']"))
		return CHAT_MONARCH;
	if (has(t, "<start_of_turn>"))
		return CHAT_GEMMA;
	if (has(t, "'\\n\\nAssistant: ' + eos_token"))
		return CHAT_ORION;
	if (has(t, "GPT4 Correct "))
		return CHAT_OPENCHAT;
	if (has(t, "USER: ") && has(t, "ASSISTANT: "))
		return has(t, "SYSTEM: ") ? CHAT_VICUNA_ORCA : CHAT_VICUNA;
	if (has(t, "### Instruction:") && has(t, "<|EOT|>"))
		return CHAT_DEEPSEEK;
	if (has(t, "<|START_OF_TURN_TOKEN|>") && has(t, "<|USER_TOKEN|>"))
		return CHAT_COMMAND_R;
	if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>"))
		return CHAT_LLAMA3;
	if (has(t, "[gMASK]sop"))
		return CHAT_CHATGLM3;
	if (has(t, MINICPM_USER))
		return CHAT_MINICPM;
	if (has(t, "'Assistant: ' + message['content'] + eos_token"))
		return CHAT_DEEPSEEK2;
	if (has(t, DS_ASSISTANT) && has(t, DS_USER) && has(t, DS_EOS))
		return CHAT_DEEPSEEK3;
	if (has(t, "[|system|]") && has(t, "[|assistant|]") &&
	    has(t, "[|endofturn|]") && !has(t, "[|tool|]"))
		return CHAT_EXAONE3;
	if (has(t, "<|start_of_role|>"))
		return CHAT_GRANITE;
	if (has(t, "<|role_start|>"))
		return CHAT_MEGREZ;
	if (has(t, "<role>ASSISTANT</role>") && has(t, "'HUMAN'"))
		return CHAT_BAILING;
	if (has(t, "<|header_start|>") && has(t, "<|header_end|>"))
		return CHAT_LLAMA4;
	return CHAT_UNKNOWN;
}

const char *lumen_chat_template_detect(const char *tmpl)
{
	enum chat_family f = tmpl ? detect(tmpl) : CHAT_UNKNOWN;

	return f == CHAT_UNKNOWN ? NULL : family_names[f];
}

const char *lumen_chat_template_name(const struct lumen_model *model)
{
	const char *t = lumen_model_chat_template(model);

	return t ? lumen_chat_template_detect(t) : NULL;
}

/* the error when nothing matched: every name, so the user can choose */
static int unrecognised(const char *what)
{
	char list[400];
	size_t n = 0;

	list[0] = 0;
	for (int i = 0; i < CHAT_COUNT && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i ? ", " : "", family_names[i]);
	return lumen_fail(LUMEN_E_INVAL,
			  "%s is not a chat template lumen recognises; name one of: %s",
			  what, list);
}

/* @tmpl resolved: a name, a Jinja text, or the model's own (or chatml) */
static int resolve(const struct lumen_model *model, const char *tmpl,
		   enum chat_family *f)
{
	if (!tmpl) {
		tmpl = model ? lumen_model_chat_template(model) : NULL;
		if (!tmpl) {
			*f = CHAT_CHATML;	/* llama.cpp's default */
			return 0;
		}
		*f = detect(tmpl);
		return *f == CHAT_UNKNOWN ?
		       unrecognised("the model's tokenizer.chat_template") : 0;
	}
	*f = detect(tmpl);
	if (*f != CHAT_UNKNOWN)
		return 0;
	/* a short word is a name the user typed; a long text a template */
	if (strlen(tmpl) < 40 && !strchr(tmpl, '{')) {
		char what[80];

		snprintf(what, sizeof(what), "\"%s\"", tmpl);
		return unrecognised(what);
	}
	return unrecognised("this template text");
}

/* ---- rendering: snprintf-like output ---- */

struct out {
	char *buf;
	size_t size, len;
};

static void put_n(struct out *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void put(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

/* Python's str.strip() on ASCII whitespace, as llama.cpp's trim() */
static void put_trim(struct out *o, const char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	put_n(o, s, n);
}

static bool is(const char *role, const char *name)
{
	return !strcmp(role, name);
}

static void render_mistral_v7(struct out *o, enum chat_family f,
			      const struct lumen_chat_message *m, size_t n)
{
	const char *sp = f == CHAT_MISTRAL_V7 ? " " : "";

	for (size_t i = 0; i < n; i++) {
		if (is(m[i].role, "system")) {
			put(o, "[SYSTEM_PROMPT]");
			put(o, sp);
			put(o, m[i].content);
			put(o, "[/SYSTEM_PROMPT]");
		} else if (is(m[i].role, "user")) {
			put(o, "[INST]");
			put(o, sp);
			put(o, m[i].content);
			put(o, "[/INST]");
		} else {
			put(o, sp);
			put(o, m[i].content);
			put(o, "</s>");
		}
	}
}

static void render_mistral(struct out *o, enum chat_family f,
			   const struct lumen_chat_message *m, size_t n)
{
	const char *lead = f == CHAT_MISTRAL_V1 ? " " : "";
	const char *trail = f == CHAT_MISTRAL_V3_TEKKEN ? "" : " ";
	bool in_turn = false;

	for (size_t i = 0; i < n; i++) {
		if (!in_turn) {
			put(o, lead);
			put(o, "[INST]");
			put(o, trail);
			in_turn = true;
		}
		if (is(m[i].role, "system")) {
			put(o, m[i].content);
			put(o, "\n\n");
		} else if (is(m[i].role, "user")) {
			put(o, m[i].content);
			put(o, lead);
			put(o, "[/INST]");
		} else {
			put(o, trail);
			if (f == CHAT_MISTRAL_V3)
				put_trim(o, m[i].content);
			else
				put(o, m[i].content);
			put(o, "</s>");
			in_turn = false;
		}
	}
}

static void render_llama2(struct out *o, enum chat_family f,
			  const struct lumen_chat_message *m, size_t n)
{
	bool sys = f != CHAT_LLAMA2, bos = f == CHAT_LLAMA2_SYS_BOS;
	bool strip = f == CHAT_LLAMA2_SYS_STRIP;
	bool in_turn = true;	/* the first [INST] goes without BOS */

	put(o, "[INST] ");
	for (size_t i = 0; i < n; i++) {
		void (*content)(struct out *, const char *) =
			strip ? put_trim : put;

		if (!in_turn) {
			in_turn = true;
			put(o, bos ? "<s>[INST] " : "[INST] ");
		}
		if (is(m[i].role, "system")) {
			/* without <<SYS>>, the system text opens the user turn */
			put(o, sys ? "<<SYS>>\n" : "");
			content(o, m[i].content);
			put(o, sys ? "\n<</SYS>>\n\n" : "\n");
		} else if (is(m[i].role, "user")) {
			content(o, m[i].content);
			put(o, " [/INST]");
		} else {
			content(o, m[i].content);
			put(o, "</s>");
			in_turn = false;
		}
	}
}

/* "<|role|>\n" + content + @end for each message (Phi-3, Falcon 3, Zephyr) */
static void render_pipe_roles(struct out *o, const char *end,
			      const struct lumen_chat_message *m, size_t n,
			      bool add_assistant)
{
	for (size_t i = 0; i < n; i++) {
		put(o, "<|");
		put(o, m[i].role);
		put(o, "|>\n");
		put(o, m[i].content);
		put(o, end);
	}
	if (add_assistant)
		put(o, "<|assistant|>\n");
}

/* Gemma has no system turn: system texts open the next user turn */
static void render_gemma(struct out *o, const struct lumen_chat_message *m,
			 size_t n, bool add_assistant)
{
	size_t sys = SIZE_MAX;	/* the first system text not yet emitted */

	for (size_t i = 0; i < n; i++) {
		bool model = is(m[i].role, "assistant");

		if (is(m[i].role, "system")) {
			if (sys == SIZE_MAX)
				sys = i;
			continue;
		}
		put(o, "<start_of_turn>");
		put(o, model ? "model" : m[i].role);
		put(o, "\n");
		if (sys != SIZE_MAX && !model) {
			for (size_t k = sys; k < i; k++)
				if (is(m[k].role, "system"))
					put_trim(o, m[k].content);
			put(o, "\n\n");
			sys = SIZE_MAX;
		}
		put_trim(o, m[i].content);
		put(o, "<end_of_turn>\n");
	}
	if (add_assistant)
		put(o, "<start_of_turn>model\n");
}

static void render_simple(struct out *o, enum chat_family f,
			  const struct lumen_chat_message *m, size_t n,
			  bool add_assistant)
{
	for (size_t i = 0; i < n; i++) {
		const char *r = m[i].role, *c = m[i].content;

		switch (f) {
		case CHAT_CHATML:
			put(o, "<|im_start|>");
			put(o, r);
			put(o, "\n");
			put(o, c);
			put(o, "<|im_end|>\n");
			break;
		case CHAT_PHI4:
			put(o, "<|im_start|>");
			put(o, r);
			put(o, "<|im_sep|>");
			put(o, c);
			put(o, "<|im_end|>");
			break;
		case CHAT_MONARCH:
			put(o, i ? "<s>" : "");
			put(o, r);
			put(o, "\n");
			put(o, c);
			put(o, "</s>\n");
			break;
		case CHAT_OPENCHAT:
			if (is(r, "system")) {
				put(o, c);
			} else {
				char cap = (char)toupper((unsigned char)r[0]);

				put(o, "GPT4 Correct ");
				if (*r) {
					put_n(o, &cap, 1);
					put(o, r + 1);
				}
				put(o, ": ");
				put(o, c);
			}
			put(o, "<|end_of_turn|>");
			break;
		case CHAT_VICUNA:
		case CHAT_VICUNA_ORCA:
			if (is(r, "system")) {
				put(o, f == CHAT_VICUNA_ORCA ? "SYSTEM: " : "");
				put(o, c);
				put(o, f == CHAT_VICUNA_ORCA ? "\n" : "\n\n");
			} else if (is(r, "user")) {
				put(o, "USER: ");
				put(o, c);
				put(o, "\n");
			} else if (is(r, "assistant")) {
				put(o, "ASSISTANT: ");
				put(o, c);
				put(o, "</s>\n");
			}
			break;
		case CHAT_DEEPSEEK:
			if (is(r, "system")) {
				put(o, c);
			} else if (is(r, "user")) {
				put(o, "### Instruction:\n");
				put(o, c);
				put(o, "\n");
			} else if (is(r, "assistant")) {
				put(o, "### Response:\n");
				put(o, c);
				put(o, "\n<|EOT|>\n");
			}
			break;
		case CHAT_DEEPSEEK2:
		case CHAT_DEEPSEEK3:
			if (is(r, "system")) {
				put(o, c);
				put(o, "\n\n");
			} else if (is(r, "user")) {
				put(o, f == CHAT_DEEPSEEK2 ? "User: " : DS_USER);
				put(o, c);
				put(o, f == CHAT_DEEPSEEK2 ? "\n\n" : "");
			} else if (is(r, "assistant")) {
				put(o, f == CHAT_DEEPSEEK2 ? "Assistant: " :
				    DS_ASSISTANT);
				put(o, c);
				put(o, DS_EOS);
			}
			break;
		case CHAT_COMMAND_R:
			if (is(r, "system") || is(r, "user") ||
			    is(r, "assistant")) {
				put(o, "<|START_OF_TURN_TOKEN|>");
				put(o, is(r, "system") ? "<|SYSTEM_TOKEN|>" :
				    is(r, "user") ? "<|USER_TOKEN|>" :
				    "<|CHATBOT_TOKEN|>");
				put_trim(o, c);
				put(o, "<|END_OF_TURN_TOKEN|>");
			}
			break;
		case CHAT_LLAMA3:
		case CHAT_LLAMA4:
			put(o, f == CHAT_LLAMA3 ? "<|start_header_id|>" :
			    "<|header_start|>");
			put(o, r);
			put(o, f == CHAT_LLAMA3 ? "<|end_header_id|>\n\n" :
			    "<|header_end|>\n\n");
			put_trim(o, c);
			put(o, f == CHAT_LLAMA3 ? "<|eot_id|>" : "<|eot|>");
			break;
		case CHAT_CHATGLM3:
		case CHAT_CHATGLM4:
		case CHAT_GLMEDGE:
			if (!i && f != CHAT_GLMEDGE)
				put(o, f == CHAT_CHATGLM3 ? "[gMASK]sop" :
				    "[gMASK]<sop>");
			put(o, "<|");
			put(o, r);
			put(o, f == CHAT_CHATGLM3 ? "|>\n " : "|>\n");
			put(o, c);
			break;
		case CHAT_MINICPM:
			if (is(r, "user")) {
				put(o, MINICPM_USER);
				put_trim(o, c);
				put(o, "<AI>");
			} else {
				put_trim(o, c);
			}
			break;
		case CHAT_EXAONE3:
			if (is(r, "system") || is(r, "user") ||
			    is(r, "assistant")) {
				put(o, "[|");
				put(o, r);
				put(o, "|]");
				put_trim(o, c);
				put(o, is(r, "user") ? "\n" : "[|endofturn|]\n");
			}
			break;
		case CHAT_GRANITE:
			put(o, "<|start_of_role|>");
			put(o, r);
			put(o, "<|end_of_role|>");
			if (is(r, "assistant_tool_call"))
				put(o, "<|tool_call|>");
			put(o, c);
			put(o, "<|end_of_text|>\n");
			break;
		case CHAT_MEGREZ:
			put(o, "<|role_start|>");
			put(o, r);
			put(o, "<|role_end|>");
			put(o, c);
			put(o, "<|turn_end|>");
			break;
		case CHAT_BAILING:
			put(o, "<role>");
			if (is(r, "user")) {
				put(o, "HUMAN");
			} else {
				for (const char *p = r; *p; p++) {
					char u = (char)toupper((unsigned char)*p);

					put_n(o, &u, 1);
				}
			}
			put(o, "</role>");
			put(o, c);
			break;
		default:
			break;
		}
	}
	if (!add_assistant)
		return;
	switch (f) {
	case CHAT_CHATML:	put(o, "<|im_start|>assistant\n"); break;
	case CHAT_PHI4:		put(o, "<|im_start|>assistant<|im_sep|>"); break;
	case CHAT_MONARCH:	put(o, "<s>assistant\n"); break;
	case CHAT_OPENCHAT:	put(o, "GPT4 Correct Assistant:"); break;
	case CHAT_VICUNA:
	case CHAT_VICUNA_ORCA:	put(o, "ASSISTANT:"); break;
	case CHAT_DEEPSEEK:	put(o, "### Response:\n"); break;
	case CHAT_DEEPSEEK2:	put(o, "Assistant:"); break;
	case CHAT_DEEPSEEK3:	put(o, DS_ASSISTANT); break;
	case CHAT_COMMAND_R:
		put(o, "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
		break;
	case CHAT_LLAMA3:
		put(o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
		break;
	case CHAT_LLAMA4:
		put(o, "<|header_start|>assistant<|header_end|>\n\n");
		break;
	case CHAT_CHATGLM3:
	case CHAT_GLMEDGE:	put(o, "<|assistant|>"); break;
	case CHAT_CHATGLM4:	put(o, "<|assistant|>\n"); break;
	case CHAT_EXAONE3:	put(o, "[|assistant|]"); break;
	case CHAT_GRANITE:
		put(o, "<|start_of_role|>assistant<|end_of_role|>\n");
		break;
	case CHAT_MEGREZ:
		put(o, "<|role_start|>assistant<|role_end|>");
		break;
	case CHAT_BAILING:	put(o, "<role>ASSISTANT</role>"); break;
	default:
		break;
	}
}

/* Orion: system texts go into the next user turn */
static void render_orion(struct out *o, const struct lumen_chat_message *m,
			 size_t n)
{
	size_t sys = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		if (is(m[i].role, "system")) {
			if (sys == SIZE_MAX)
				sys = i;
			continue;
		}
		if (is(m[i].role, "user")) {
			put(o, "Human: ");
			if (sys != SIZE_MAX) {
				for (size_t k = sys; k < i; k++)
					if (is(m[k].role, "system"))
						put(o, m[k].content);
				put(o, "\n\n");
				sys = SIZE_MAX;
			}
			put(o, m[i].content);
			put(o, "\n\nAssistant: </s>");
		} else {
			put(o, m[i].content);
			put(o, "</s>");
		}
	}
}

int lumen_chat_apply_template(const struct lumen_model *model,
			      const char *tmpl,
			      const struct lumen_chat_message *msgs,
			      size_t n_msgs, bool add_assistant,
			      char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size ? size - 1 : 0 };
	enum chat_family f;
	int ret;

	if (!buf && size)
		return lumen_fail(LUMEN_E_INVAL, "no buffer for %zu bytes", size);
	if (n_msgs && !msgs)
		return lumen_fail(LUMEN_E_INVAL, "%zu messages at NULL", n_msgs);
	for (size_t i = 0; i < n_msgs; i++)
		if (!msgs[i].role || !msgs[i].content)
			return lumen_fail(LUMEN_E_INVAL,
					  "message %zu has no %s", i,
					  msgs[i].role ? "content" : "role");
	ret = resolve(model, tmpl, &f);
	if (ret)
		return ret;
	switch (f) {
	case CHAT_MISTRAL_V7:
	case CHAT_MISTRAL_V7_TEKKEN:
		render_mistral_v7(&o, f, msgs, n_msgs);
		break;
	case CHAT_MISTRAL_V1:
	case CHAT_MISTRAL_V3:
	case CHAT_MISTRAL_V3_TEKKEN:
		render_mistral(&o, f, msgs, n_msgs);
		break;
	case CHAT_LLAMA2:
	case CHAT_LLAMA2_SYS:
	case CHAT_LLAMA2_SYS_BOS:
	case CHAT_LLAMA2_SYS_STRIP:
		render_llama2(&o, f, msgs, n_msgs);
		break;
	case CHAT_PHI3:
		render_pipe_roles(&o, "<|end|>\n", msgs, n_msgs, add_assistant);
		break;
	case CHAT_FALCON3:
		render_pipe_roles(&o, "\n", msgs, n_msgs, add_assistant);
		break;
	case CHAT_ZEPHYR:
		render_pipe_roles(&o, "<|endoftext|>\n", msgs, n_msgs,
				  add_assistant);
		break;
	case CHAT_GEMMA:
		render_gemma(&o, msgs, n_msgs, add_assistant);
		break;
	case CHAT_ORION:
		render_orion(&o, msgs, n_msgs);
		break;
	default:
		render_simple(&o, f, msgs, n_msgs, add_assistant);
		break;
	}
	if (o.len > INT32_MAX)
		return lumen_fail(LUMEN_E_INVAL,
				  "the rendering is %zu bytes, above 2 GiB", o.len);
	if (size)
		buf[o.len < o.size ? o.len : o.size] = 0;
	return (int)o.len;
}

const char *const *lumen_chat_template_stops(const struct lumen_model *model,
					     const char *tmpl)
{
	enum chat_family f;

	if (resolve(model, tmpl, &f))
		return NULL;
	return family_stops[f];
}

int lumen_chat_stop_ids(const struct lumen_model *model, const char *tmpl,
			int32_t *ids, size_t cap)
{
	const struct lumen_tokenizer *tok = model ? model->tok : NULL;
	const char *const *stops;
	size_t n = 0;
	enum chat_family f;
	int ret;

	if (!model)
		return lumen_fail(LUMEN_E_INVAL, "stop ids need a model");
	ret = resolve(model, tmpl, &f);
	if (ret)
		return ret;
	stops = family_stops[f];
	for (int k = -1; k < 0 || stops[k]; k++) {
		int32_t id = k < 0 ? lumen_tokenizer_eos(tok) :
			     lumen_tokenizer_find(tok, stops[k], strlen(stops[k]));
		bool dup = id < 0;

		for (size_t j = 0; j < n && j < cap && !dup; j++)
			dup = ids[j] == id;
		if (dup)
			continue;
		if (n < cap)
			ids[n] = id;
		n++;
	}
	return (int)n;
}
