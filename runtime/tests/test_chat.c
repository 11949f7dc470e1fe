// SPDX-License-Identifier: MIT
/*
 * Chat templates: every family renders llama.cpp's six-turn test
 * conversation exactly as llama.cpp's built-in renderer does (the
 * expected strings and most template texts are llama.cpp's own test
 * vectors, tests/test-chat-template.cpp), recognised from the template
 * text; the real templates carried by the $SHARED/tokenizer vocabularies
 * are recognised and rendered; names, stops and errors.
 */
#include <stdlib.h>
#include <string.h>

#include <lumen/chat.h>
#include "gguf.h"
#include "lumen_test.h"

static const struct lumen_chat_message conv[] = {
	{ "system", "You are a helpful assistant" },
	{ "user", "Hello" },
	{ "assistant", "Hi there" },
	{ "user", "Who are you" },
	{ "assistant", "   I am an assistant   " },
	{ "user", "Another question" },
};
#define N_CONV (sizeof(conv) / sizeof(conv[0]))

#define DS_EOS "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"

static const char chatml_out[] =
	"<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n";
static const char llama3_out[] =
	"<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
static const char gemma_out[] =
	"<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n";
static const char phi3_out[] =
	"<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n";

/* a template text (or name), the family it is, what it renders */
static const struct vector {
	const char *what, *tmpl, *family, *out;
} vectors[] = {
	{ "teknium/OpenHermes-2.5-Mistral-7B",
	  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
	  "chatml", chatml_out },
	{ "mistralai/Mistral-7B-Instruct-v0.2 (old)",
	  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
	  "llama2",
	  "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]" },
	{ "TheBloke/FusionNet_34Bx2_MoE-AWQ",
	  "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n{%- if idx > 1 -%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- else -%}\n{{- messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n{% elif messages[idx]['role'] == 'system' %}\n{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}\n{%- elif messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}",
	  "llama2-sys-bos",
	  "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]" },
	{ "bofenghuang/vigogne-2-70b-chat",
	  "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% elif true == true and not '<<SYS>>' in messages[0]['content'] %}{% set loop_messages = messages %}{% set system_message = 'Vous \xc3\xaates Vigogne' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'system' %}{{ '<<SYS>>\\n' + content.strip() + '\\n<</SYS>>\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
	  "llama2-sys-strip",
	  "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]" },
	{ "mlabonne/AlphaMonarch-7B",
	  "{% for message in messages %}{{bos_token + message['role'] + '\\n' + message['content'] + eos_token + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ bos_token + 'assistant\\n' }}{% endif %}",
	  "monarch",
	  "system\nYou are a helpful assistant</s>\n<s>user\nHello</s>\n<s>assistant\nHi there</s>\n<s>user\nWho are you</s>\n<s>assistant\n   I am an assistant   </s>\n<s>user\nAnother question</s>\n<s>assistant\n" },
	{ "google/gemma-7b-it",
	  "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
	  "gemma", gemma_out },
	{ "OrionStarAI/Orion-14B-Chat",
	  "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
	  "orion",
	  "Human: You are a helpful assistant\n\nHello\n\nAssistant: </s>Hi there</s>Human: Who are you\n\nAssistant: </s>   I am an assistant   </s>Human: Another question\n\nAssistant: </s>" },
	{ "openchat/openchat-3.5-0106",
	  "{{ bos_token }}{% for message in messages %}{{ 'GPT4 Correct ' + message['role'].title() + ': ' + message['content'] + '<|end_of_turn|>'}}{% endfor %}{% if add_generation_prompt %}{{ 'GPT4 Correct Assistant:' }}{% endif %}",
	  "openchat",
	  "You are a helpful assistant<|end_of_turn|>GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant: Hi there<|end_of_turn|>GPT4 Correct User: Who are you<|end_of_turn|>GPT4 Correct Assistant:    I am an assistant   <|end_of_turn|>GPT4 Correct User: Another question<|end_of_turn|>GPT4 Correct Assistant:" },
	{ "deepseek-ai/deepseek-coder-33b-instruct",
	  "{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == 'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else %}\n{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif %}",
	  "deepseek",
	  "You are a helpful assistant### Instruction:\nHello\n### Response:\nHi there\n<|EOT|>\n### Instruction:\nWho are you\n### Response:\n   I am an assistant   \n<|EOT|>\n### Instruction:\nAnother question\n### Response:\n" },
	{ "eachadea/vicuna-13b-1.1",
	  "{%- for message in messages %}{%- if message['role'] == 'system' -%}{{- '' + message['content'] + '\n\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + '</s>\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt -%}{{-'ASSISTANT:'-}}{%- endif -%}",
	  "vicuna",
	  "You are a helpful assistant\n\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:" },
	{ "Orca-Vicuna",
	  "{%- for message in messages %}{%- if message['role'] == 'system' -%}{{-'SYSTEM: ' + message['content'] + '\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + '</s>\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt -%}{{-'ASSISTANT:'-}}{%- endif -%}",
	  "vicuna-orca",
	  "SYSTEM: You are a helpful assistant\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:" },
	{ "CohereForAI/c4ai-command-r-plus",
	  "{{ bos_token }}{% if system_message != false %}{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% for message in loop_messages %}{% set content = message['content'] %}{% if message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}",
	  "command-r",
	  "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi there<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Who are you<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>I am an assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Another question<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>" },
	{ "Llama-3",
	  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}",
	  "llama3", llama3_out },
	{ "Phi-3-mini",
	  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}",
	  "phi3", phi3_out },
	{ "Phi-3-small",
	  "{{ bos_token }}{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
	  "phi3", phi3_out },
	{ "Phi-3-vision",
	  "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}{{- '<|assistant|>\n' -}}{% endif %}",
	  "phi3", phi3_out },
	{ "ChatGLM3",
	  "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n {{ message['content'] }}{% else %}<|{{ message['role'] }}|>\n {{ message['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
	  "chatglm3",
	  "[gMASK]sop<|system|>\n You are a helpful assistant<|user|>\n Hello<|assistant|>\n Hi there<|user|>\n Who are you<|assistant|>\n    I am an assistant   <|user|>\n Another question<|assistant|>" },
	{ "ChatGLM4",
	  "[gMASK]<sop>{% for item in messages %}{% if item['content'] %}<|{{ item['role'] }}|>{{ item['metadata'] }}\n{{ item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
	  "chatglm4",
	  "[gMASK]<sop><|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>\n" },
	{ "GLMEdge",
	  "{% for item in messages %}{% if item['role'] == 'system' %}<|system|>\n{{ item['content'] }}{% elif item['role'] == 'user' %}<|user|>\n{{ item['content'] }}{% elif item['role'] == 'assistant' %}<|assistant|>\n{{ item['content'] }}{% endif %}{% endfor %}<|assistant|>",
	  "glmedge",
	  "<|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>" },
	{ "MiniCPM-3B-OpenHermes-2.5-v2-GGUF",
	  "{% for message in messages %}{% if message['role'] == 'user' %}{{'<\xe7\x94\xa8\xe6\x88\xb7>' + message['content'].strip() + '<AI>'}}{% else %}{{message['content'].strip()}}{% endif %}{% endfor %}",
	  "minicpm",
	  "You are a helpful assistant<\xe7\x94\xa8\xe6\x88\xb7>Hello<AI>Hi there<\xe7\x94\xa8\xe6\x88\xb7>Who are you<AI>I am an assistant<\xe7\x94\xa8\xe6\x88\xb7>Another question<AI>" },
	{ "DeepSeek-V2",
	  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ message['content'] + '\n\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}",
	  "deepseek2",
	  "You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi there" DS_EOS "User: Who are you\n\nAssistant:    I am an assistant   " DS_EOS "User: Another question\n\nAssistant:" },
	{ "ibm-granite/granite-3.0-8b-instruct",
	  "{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n    {{- '<|start_of_role|>system<|end_of_role|>' + message['content'] + '<|end_of_text|>\n' }}\n    {%- endif %}\n{%- endfor %}",
	  "granite",
	  "<|start_of_role|>system<|end_of_role|>You are a helpful assistant<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hello<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>Hi there<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Who are you<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>   I am an assistant   <|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Another question<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>\n" },
	{ "mistralai/Mistral-7B-Instruct-v0.2 ('v1' with a system prompt)",
	  "{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- endif %}\n{%- endfor %}\n",
	  "mistral-v1",
	  " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another question [/INST]" },
	{ "Mistral-Large-Instruct-2407 ('v3')",
	  "{{- bos_token }}{%- for message in loop_messages %}{%- if message[\"role\"] == \"user\" %}{{- \"[AVAILABLE_TOOLS] [\" }}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}{%- endif %}{%- endfor %}",
	  "mistral-v3",
	  "[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] Another question[/INST]" },
	{ "Mistral-Nemo-Instruct-2407 ('v3-tekken')",
	  "{{- bos_token }}{%- for message in loop_messages %}{%- if message[\"role\"] == \"user\" %}{{- \"[AVAILABLE_TOOLS][\" }}{{- \"[INST]\" + message[\"content\"] + \"[/INST]\" }}{%- endif %}{%- endfor %}",
	  "mistral-v3-tekken",
	  "[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]Another question[/INST]" },
	{ "mistralai/Mistral-Large-Instruct-2411 ('v7')",
	  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and assistant roles are supported!') }}{% endif %}{% endfor %}",
	  "mistral-v7",
	  "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]" },
	{ "Infinigence/Megrez-3B-Instruct",
	  "{% for message in messages %}{{ '<|role_start|>' + message['role'] + '<|role_end|>' + message['content'] + '<|turn_end|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|role_start|>assistant<|role_end|>' }}{% endif %}",
	  "megrez",
	  "<|role_start|>system<|role_end|>You are a helpful assistant<|turn_end|><|role_start|>user<|role_end|>Hello<|turn_end|><|role_start|>assistant<|role_end|>Hi there<|turn_end|><|role_start|>user<|role_end|>Who are you<|turn_end|><|role_start|>assistant<|role_end|>   I am an assistant   <|turn_end|><|role_start|>user<|role_end|>Another question<|turn_end|><|role_start|>assistant<|role_end|>" },
	{ "phi-4",
	  "{% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|><|im_start|>assistant<|im_sep|>'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}",
	  "phi4",
	  "<|im_start|>system<|im_sep|>You are a helpful assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there<|im_end|><|im_start|>user<|im_sep|>Who are you<|im_end|><|im_start|>assistant<|im_sep|>   I am an assistant   <|im_end|><|im_start|>user<|im_sep|>Another question<|im_end|><|im_start|>assistant<|im_sep|>" },
	{ "inclusionAI/Ling-lite",
	  "{% for message in messages %}{% set role = message['role'] | lower %}{% if role == 'user' %}{% set role = 'HUMAN' %}{% endif %}{% set role = role | upper %}{{ '<role>' + role + '</role>' + message['content'] }}{% endfor %}{% if add_generation_prompt %}{{ '<role>ASSISTANT</role>' }}{% endif %}",
	  "bailing",
	  "<role>SYSTEM</role>You are a helpful assistant<role>HUMAN</role>Hello<role>ASSISTANT</role>Hi there<role>HUMAN</role>Who are you<role>ASSISTANT</role>   I am an assistant   <role>HUMAN</role>Another question<role>ASSISTANT</role>" },
	/* by llama.cpp's rules for these families (no template text in its tests) */
	{ "Zephyr (stablelm-2-zephyr style)",
	  "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '<|endoftext|>\n' }}{% else %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|endoftext|>\n' }}{% endif %}{% endfor %}",
	  "zephyr",
	  "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there<|endoftext|>\n<|user|>\nWho are you<|endoftext|>\n<|assistant|>\n   I am an assistant   <|endoftext|>\n<|user|>\nAnother question<|endoftext|>\n<|assistant|>\n" },
	{ "DeepSeek-V3",
	  "{{ '<\xef\xbd\x9cUser\xef\xbd\x9c>' + message['content'] + '<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>' + content + '" DS_EOS "' }}",
	  "deepseek3",
	  "You are a helpful assistant\n\n<\xef\xbd\x9cUser\xef\xbd\x9c>Hello<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>Hi there" DS_EOS "<\xef\xbd\x9cUser\xef\xbd\x9c>Who are you<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>   I am an assistant   " DS_EOS "<\xef\xbd\x9cUser\xef\xbd\x9c>Another question<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>" },
	{ "Falcon 3",
	  "{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{# <|user|> </s> #}",
	  "falcon3",
	  "<|system|>\nYou are a helpful assistant\n<|user|>\nHello\n<|assistant|>\nHi there\n<|user|>\nWho are you\n<|assistant|>\n   I am an assistant   \n<|user|>\nAnother question\n<|assistant|>\n" },
	{ "EXAONE-3.0-7.8B-Instruct",
	  "{% for message in messages %}{% if message['role'] == 'system' %}{{ '[|system|]' + message['content'] + '[|endofturn|]\n' }}{% elif message['role'] == 'user' %}{{ '[|user|]' + message['content'] + '\n' }}{% elif message['role'] == 'assistant' %}{{ '[|assistant|]' + message['content'] + '[|endofturn|]\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '[|assistant|]' }}{% endif %}",
	  "exaone3",
	  "[|system|]You are a helpful assistant[|endofturn|]\n[|user|]Hello\n[|assistant|]Hi there[|endofturn|]\n[|user|]Who are you\n[|assistant|]I am an assistant[|endofturn|]\n[|user|]Another question\n[|assistant|]" },
	{ "Llama 4 (by name)", "llama4", "llama4",
	  "<|header_start|>system<|header_end|>\n\nYou are a helpful assistant<|eot|><|header_start|>user<|header_end|>\n\nHello<|eot|><|header_start|>assistant<|header_end|>\n\nHi there<|eot|><|header_start|>user<|header_end|>\n\nWho are you<|eot|><|header_start|>assistant<|header_end|>\n\nI am an assistant<|eot|><|header_start|>user<|header_end|>\n\nAnother question<|eot|><|header_start|>assistant<|header_end|>\n\n" },
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static char *render(const char *tmpl, const struct lumen_chat_message *m,
		    size_t n, bool add)
{
	int len = lumen_chat_apply_template(NULL, tmpl, m, n, add, NULL, 0);
	char *buf;

	if (len < 0)
		return NULL;
	buf = malloc((size_t)len + 1);
	if (buf && lumen_chat_apply_template(NULL, tmpl, m, n, add, buf,
					     (size_t)len + 1) != len) {
		free(buf);
		return NULL;
	}
	return buf;
}

TEST(chat_templates_render_as_llama_cpp)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		const struct vector *v = &vectors[i];
		const char *family = lumen_chat_template_detect(v->tmpl);
		char *out;

		CHECK_MSG(family && !strcmp(family, v->family),
			  "%s: recognised as %s, not %s", v->what,
			  family ? family : "nothing", v->family);
		out = render(v->tmpl, conv, N_CONV, true);
		CHECK_MSG(out && !strcmp(out, v->out),
			  "%s: rendered\n%s\nexpected\n%s", v->what,
			  out ? out : lumen_last_error(), v->out);
		free(out);
		/* and by its name */
		out = render(v->family, conv, N_CONV, true);
		CHECK_MSG(out && !strcmp(out, v->out), "%s by name \"%s\"",
			  v->what, v->family);
		free(out);
	}
}

/* every supported name has a vector, and each name is itself */
TEST(chat_template_names_are_all_tested)
{
	const char *const *names = lumen_chat_template_names();
	size_t n = 0;

	for (; names[n]; n++) {
		bool found = false;

		CHECK_MSG(!strcmp(lumen_chat_template_detect(names[n]), names[n]),
			  "%s", names[n]);
		for (size_t i = 0; i < N_VECTORS && !found; i++)
			found = !strcmp(vectors[i].family, names[n]);
		/* the llama2 variants without own texts share llama2's vector */
		if (!found && !strcmp(names[n], "llama2-sys"))
			found = true;
		if (!found && !strcmp(names[n], "mistral-v7-tekken"))
			found = true;
		CHECK_MSG(found, "no rendering test for \"%s\"", names[n]);
	}
	CHECK(n >= 30);
}

TEST(chat_template_variants_without_vectors)
{
	/* llama2 with <<SYS>>, no BOS inside, no strip */
	char *out = render("[INST] <<SYS>>", conv, 3, true);

	CHECK(out && !strcmp(out, "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"));
	free(out);
	out = render("mistral-v7-tekken", conv, 3, true);
	CHECK(out && !strcmp(out, "[SYSTEM_PROMPT]You are a helpful assistant[/SYSTEM_PROMPT][INST]Hello[/INST]Hi there</s>"));
	free(out);
	/* without the assistant opening */
	out = render("chatml", conv + 1, 1, false);
	CHECK(out && !strcmp(out, "<|im_start|>user\nHello<|im_end|>\n"));
	free(out);
}

/* snprintf semantics: the length always, at most size - 1 bytes and a NUL */
TEST(chat_template_output_is_cut_like_snprintf)
{
	char buf[16];
	int full = lumen_chat_apply_template(NULL, "chatml", conv, N_CONV, true,
					     NULL, 0);

	CHECK_EQ(full, (long)strlen(chatml_out));
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(lumen_chat_apply_template(NULL, "chatml", conv, N_CONV, true,
					   buf, sizeof(buf)), full);
	CHECK(!memcmp(buf, chatml_out, 15) && buf[15] == 0);
	CHECK_EQ(lumen_chat_apply_template(NULL, "chatml", conv, N_CONV, true,
					   buf, 1), full);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(lumen_chat_apply_template(NULL, "chatml", NULL, 0, true, buf,
					   sizeof(buf)), 22);
	CHECK(!strcmp(buf, "<|im_start|>ass"));
}

TEST(chat_template_errors_name_the_options)
{
	struct lumen_chat_message bad[] = { { "user", NULL } };
	char buf[64];

	CHECK_EQ(lumen_chat_apply_template(NULL, "no-such-template", conv,
					   N_CONV, true, buf, sizeof(buf)),
		 LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "\"no-such-template\"") != NULL);
	CHECK(strstr(lumen_last_error(), "chatml") != NULL);
	CHECK(strstr(lumen_last_error(), "llama3") != NULL);
	CHECK(strstr(lumen_last_error(), "gemma") != NULL);
	CHECK(lumen_chat_template_detect("{{ messages }} something else") == NULL);
	CHECK_EQ(lumen_chat_apply_template(NULL, "{% for m in messages %}{{ m.content }}{% endfor %}",
					   conv, N_CONV, true, buf, sizeof(buf)),
		 LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "template text") != NULL);
	CHECK_EQ(lumen_chat_apply_template(NULL, "chatml", bad, 1, true, buf,
					   sizeof(buf)), LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "no content") != NULL);
	CHECK(lumen_chat_template_stops(NULL, "nope") == NULL);
	/* SmolVLM's <|im_start|> is a BOS: not ChatML, not recognised */
	CHECK(lumen_chat_template_detect("<|im_start|>User:<end_of_utterance>") == NULL);
}

TEST(chat_template_stops_end_each_turn)
{
	static const struct { const char *name, *stop; } want[] = {
		{ "chatml", "<|im_end|>" }, { "llama3", "<|eot_id|>" },
		{ "gemma", "<end_of_turn>" }, { "phi3", "<|end|>" },
		{ "deepseek", "<|EOT|>" }, { "zephyr", "<|endoftext|>" },
		{ "command-r", "<|END_OF_TURN_TOKEN|>" }, { "llama2", "</s>" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *const *s = lumen_chat_template_stops(NULL, want[i].name);

		REQUIRE(s != NULL);
		CHECK_MSG(s[0] && !strcmp(s[0], want[i].stop), "%s: %s",
			  want[i].name, s[0] ? s[0] : "(none)");
	}
}

/* the real templates in $SHARED/tokenizer: recognised, rendered */
static char *gguf_template(const char *name)
{
	const char *dir = getenv("SHARED");
	char path[512], err[256];
	struct gguf_file g;
	struct gguf_str s;
	char *t = NULL;

	snprintf(path, sizeof(path), "%s/tokenizer/%s.gguf", dir ? dir : "../shared",
		 name);
	if (gguf_open(&g, path, err, sizeof(err)))
		return NULL;
	if (!gguf_get_str(&g, "tokenizer.chat_template", &s)) {
		t = malloc(s.len + 1);
		if (t) {
			memcpy(t, s.ptr, s.len);
			t[s.len] = 0;
		}
	}
	gguf_close(&g);
	return t;
}

TEST(chat_templates_of_the_shared_vocabularies)
{
	static const struct { const char *file, *family, *out; } files[] = {
		{ "ggml-vocab-llama-bpe", "llama3", llama3_out },
		{ "ggml-vocab-qwen2", "chatml", chatml_out },
		{ "ggml-vocab-gemma3", "gemma", gemma_out },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *t = gguf_template(files[i].file);
		const char *family;
		char *out;

		REQUIRE_MSG(t, "%s: no tokenizer.chat_template (SHARED?)",
			    files[i].file);
		family = lumen_chat_template_detect(t);
		CHECK_MSG(family && !strcmp(family, files[i].family), "%s: %s",
			  files[i].file, family ? family : "not recognised");
		out = render(t, conv, N_CONV, true);
		CHECK_MSG(out && !strcmp(out, files[i].out), "%s: %s",
			  files[i].file, out ? out : lumen_last_error());
		free(out);
		free(t);
	}
}
