// SPDX-License-Identifier: MIT
/*
 * Loading a .lnpu: the reader checks every offset and checksum and
 * validates both programs; here the weights region is handed to the device
 * (in place when it can read host memory, else copied once), the shared
 * activation region is allocated, the programs are created and the
 * tokenizer is built from the vocabulary section.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_internal.h"

#define CRC_STEP (8u << 20)	/* progress granularity */

const char *lumen_dtype_name(uint32_t dtype)
{
	return lumen_isa_dtype_name(dtype);
}

/* a friendlier word than the reader's for files that are not .lnpu at all */
static int check_file_kind(const char *path)
{
	unsigned char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return lumen_fail(LUMEN_E_IO, "%s: %s", path, strerror(errno));
	n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n == 4 && !memcmp(magic, "GGUF", 4))
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: a GGUF model, not a compiled .lnpu (compile it with lumenc)",
				  path);
	if (n == 4 && !memcmp(magic, "LNPU", 4))
		return 0;
	if (n < 0)
		return lumen_fail(LUMEN_E_IO, "%s: %s", path, strerror(errno));
	return lumen_fail(LUMEN_E_FORMAT,
			  "%s: not a Lumen model (.lnpu): offset 0: magic is not \"LNPU\"",
			  path);
}

static const struct lnpu_section *weights_section(const struct lnpu_file *f)
{
	const struct lnpu_section *s = (const void *)(f->base + f->header.table_offset);

	for (uint32_t i = 0; i < f->header.section_count; i++)
		if (s[i].type == LNPU_SEC_WEIGHTS)
			return &s[i];
	return NULL;
}

static void progress(const struct lumen_model_options *opt, double done)
{
	if (opt && opt->progress)
		opt->progress(opt->progress_data, done);
}

/* the reader skipped it so that it can be done here, with progress */
static int check_weights(const char *path, const struct lnpu_file *f,
			 const struct lumen_model_options *opt)
{
	const struct lnpu_section *s = weights_section(f);
	uint32_t crc = 0;

	if (!s)
		return lumen_fail(LUMEN_E_FORMAT, "%s: no weights section", path);
	for (uint64_t done = 0; done < f->weights_size;) {
		uint64_t n = f->weights_size - done;

		if (n > CRC_STEP)
			n = CRC_STEP;
		crc = lnpu_crc32c(crc, f->weights + done, n);
		done += n;
		progress(opt, 0.5 * (double)done / (double)f->weights_size);
	}
	if (crc != s->crc)
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: offset %llu: weights: CRC-32C 0x%08x, the section table says 0x%08x (the file is damaged)",
				  path, (unsigned long long)f->weights_offset,
				  crc, s->crc);
	return 0;
}

static int build_tokenizer(struct lumen_model *m, const char *path)
{
	const struct lnpu_file *f = &m->file;
	uint32_t n = f->vocab.n_tokens, nm = f->vocab.n_merges;
	struct lumen_vocab_desc d = { 0 };
	const char **tokens = calloc(n, sizeof(*tokens));
	uint32_t *lens = calloc(n, sizeof(*lens));
	float *scores = calloc(n, sizeof(*scores));
	int32_t *types = calloc(n, sizeof(*types));
	const char **merges = calloc(nm ? nm : 1, sizeof(*merges));
	uint32_t *mlens = calloc(nm ? nm : 1, sizeof(*mlens));
	char err[256], pre[sizeof(f->vocab.pre) + 1];
	int ret = 0;

	if (!tokens || !lens || !scores || !types || !merges || !mlens) {
		ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
		goto out;
	}
	if (!strncmp(f->vocab.model, "llama", sizeof(f->vocab.model))) {
		d.type = LUMEN_VOCAB_SPM;
	} else if (!strncmp(f->vocab.model, "gpt2", sizeof(f->vocab.model))) {
		d.type = LUMEN_VOCAB_BPE;
	} else {
		ret = lumen_fail(LUMEN_E_FORMAT,
				 "%s: vocabulary: tokenizer model \"%.16s\" is not supported",
				 path, f->vocab.model);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		tokens[i] = lnpu_token(f, i, &lens[i]);
		scores[i] = lnpu_token_score(f, i);
		types[i] = lnpu_token_type(f, i);
	}
	for (uint32_t i = 0; i < nm; i++)
		merges[i] = lnpu_merge(f, i, &mlens[i]);
	d.add_space_prefix = !!(f->vocab.flags & LNPU_VOCAB_ADD_SPACE_PREFIX);
	d.n_tokens = n;
	d.tokens = tokens;
	d.token_lens = lens;
	d.scores = scores;
	d.token_types = types;
	d.n_merges = nm;
	d.merges = merges;
	d.merge_lens = mlens;
	d.bos_id = f->meta.bos;
	d.eos_id = f->meta.eos;
	d.unk_id = f->meta.unk;
	d.pad_id = f->meta.pad;
	d.add_bos = f->meta.add_bos;
	/* the file's name need not be NUL-terminated */
	memcpy(pre, f->vocab.pre, sizeof(f->vocab.pre));
	pre[sizeof(f->vocab.pre)] = 0;
	d.pre = pre;
	ret = lumen_tokenizer_create(&d, &m->tok);
	if (ret) {
		snprintf(err, sizeof(err), "%s", lumen_last_error());
		ret = lumen_fail(ret, "%s: vocabulary: %s", path, err);
	}
out:
	free(tokens);
	free(lens);
	free(scores);
	free(types);
	free(merges);
	free(mlens);
	return ret;
}

/* what the session code relies on, beyond what the reader checks */
static int check_layout(const struct lumen_model *m, const char *path)
{
	const struct lnpu_meta *meta = &m->file.meta;
	uint64_t out = m->region_size[LNPU_SLOT_OUT];
	uint64_t args = m->region_size[LNPU_SLOT_ARGS];

	if (!meta->prefill_chunk || !meta->ctx || !meta->n_vocab)
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: meta: prefill_chunk, ctx and n_vocab must not be 0",
				  path);
	if (meta->n_vocab != lumen_tokenizer_n_tokens(m->tok))
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: meta: n_vocab %u, the vocabulary has %u tokens",
				  path, meta->n_vocab,
				  lumen_tokenizer_n_tokens(m->tok));
	if ((uint64_t)meta->out_logits + 4ull * meta->n_vocab > out ||
	    (uint64_t)meta->out_argmax + 4 > out ||
	    meta->out_logits % 4 || meta->out_argmax % 4)
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: meta: out_logits/out_argmax outside the %llu-byte out region",
				  path, (unsigned long long)out);
	if (4ull * (LNPU_ARG_IDS + meta->prefill_chunk) > args)
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: regions: args holds %llu bytes, a prefill chunk of %u needs %llu",
				  path, (unsigned long long)args, meta->prefill_chunk,
				  4ull * (LNPU_ARG_IDS + meta->prefill_chunk));
	if (4ull * (LNPU_ARG_IDS + meta->verify_rows) > args)
		return lumen_fail(LUMEN_E_FORMAT,
				  "%s: regions: args holds %llu bytes, the verify program's %u rows need %llu",
				  path, (unsigned long long)args, meta->verify_rows,
				  4ull * (LNPU_ARG_IDS + meta->verify_rows));
	return 0;
}

static int upload_weights(struct lumen_model *m,
			  const struct lumen_model_options *opt)
{
	struct lumen_device *dev = m->dev;
	const struct lnpu_file *f = &m->file;
	uint64_t size = m->region_size[LNPU_SLOT_WEIGHTS];
	uint8_t *dst;
	int ret;

	if (size > f->weights_size)
		return lumen_fail(LUMEN_E_FORMAT,
				  "weights: the programs read %llu bytes, the file has %llu",
				  (unsigned long long)size,
				  (unsigned long long)f->weights_size);
	if (dev->ops->buf_import) {
		ret = dev->ops->buf_import(dev, f->weights, f->weights_size,
					   &m->weights);
		if (!ret && m->weights.copied)
			m->weight_bytes_copied = f->weights_size;
		return ret;
	}
	ret = dev->ops->buf_alloc(dev, f->weights_size, &m->weights);
	if (ret)
		return ret;
	dst = m->weights.host;
	for (uint64_t done = 0; done < f->weights_size;) {
		uint64_t n = f->weights_size - done;

		if (n > CRC_STEP)
			n = CRC_STEP;
		memcpy(dst + done, f->weights + done, n);
		done += n;
		progress(opt, 0.5 + 0.5 * (double)done / (double)f->weights_size);
	}
	m->weight_bytes_copied = f->weights_size;
	return 0;
}

bool lumen_same_validation(const struct lumen_validation *a,
			   const struct lumen_validation *b)
{
	return !memcmp(a->region_size, b->region_size, sizeof(a->region_size)) &&
	       a->regions_used == b->regions_used &&
	       a->regions_written == b->regions_written &&
	       a->op_count == b->op_count && a->error == b->error;
}

/*
 * Private copies of the programs, validated as they are: the file's
 * mapping can change under a running process (a MAP_PRIVATE page shows
 * the file's later writes until it is copied on write), so nothing after
 * the load reads the programs from it.
 */
/* before any upload: a device that lacks a dtype would refuse a program */
static int check_dtypes(const struct lumen_model *m, const char *path)
{
	struct lumen_device_info info;

	lumen_device_get_info(m->dev, &info);
	for (int p = 0; p < 3; p++) {
		int ret;

		if (!m->file.prog[p])	/* no verify program */
			continue;
		ret = lumen_check_program_dtypes(path, m->file.prog[p], &info);
		if (ret)
			return ret;
	}
	return 0;
}

static int copy_programs(struct lumen_model *m)
{
	const struct lnpu_file *f = &m->file;

	for (int p = 0; p < 3; p++) {
		struct lumen_validation v;

		if (!f->prog[p])	/* no verify program */
			continue;
		m->code[p] = malloc(f->prog_size[p]);
		if (!m->code[p])
			return lumen_fail(LUMEN_E_NOMEM, "out of memory");
		memcpy(m->code[p], f->prog[p], f->prog_size[p]);
		if (lumen_validate(m->code[p], f->prog_size[p], &v) ||
		    !lumen_same_validation(&v, &f->val[p]))
			return lumen_fail(LUMEN_E_FORMAT,
					  "the %s program changed in the file after it was read",
					  (const char *[]){ "decode", "prefill", "verify" }[p]);
		if (lumen_modeled_plan_init(&m->modeled_plan[p], m->code[p]))
			return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	}
	return 0;
}

int lumen_model_load(struct lumen_device *dev, const char *path,
		     const struct lumen_model_options *opt,
		     struct lumen_model **out)
{
	struct lumen_model *m;
	char err[512];
	int ret;

	*out = NULL;
	if (!dev || !path)
		return lumen_fail(LUMEN_E_INVAL, "no device or no path");
	ret = check_file_kind(path);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	m->dev = dev;
	if (lnpu_open(&m->file, path, LNPU_READ_SKIP_WEIGHTS_CRC, err,
		      sizeof(err))) {
		free(m);
		return lumen_fail(LUMEN_E_FORMAT, "%s: %s", path, err);
	}
	progress(opt, 0);
	if (!(opt && opt->trust_weights)) {
		ret = check_weights(path, &m->file, opt);
		if (ret)
			goto fail;
	}
	ret = build_tokenizer(m, path);
	if (ret)
		goto fail;
	if (m->file.chat_template) {
		m->chat_template = strndup(m->file.chat_template,
					   m->file.chat_template_len);
		if (!m->chat_template) {
			ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
			goto fail;
		}
	}
	lnpu_region_sizes(&m->file, m->region_size);
	ret = check_layout(m, path);
	if (!ret)
		ret = check_dtypes(m, path);
	if (!ret)
		ret = lumen_check_model_memory(m);
	if (ret)
		goto fail;
	ret = upload_weights(m, opt);
	if (ret)
		goto fail;
	ret = dev->ops->buf_alloc(dev, m->region_size[LNPU_SLOT_ACT], &m->act);
	if (ret)
		goto fail;
	ret = copy_programs(m);
	if (ret)
		goto fail;
	for (int p = 0; p < 3; p++) {
		if (!m->code[p])	/* no verify program */
			continue;
		ret = dev->ops->program_create(dev, m->code[p],
					       m->file.prog_size[p],
					       &m->file.val[p], &m->prog[p]);
		if (ret)
			goto fail;
	}
	progress(opt, 1);
	*out = m;
	return 0;
fail:
	lumen_model_free(m);
	return ret;
}

void lumen_model_free(struct lumen_model *m)
{
	struct lumen_device *dev;

	if (!m)
		return;
	dev = m->dev;
	for (int p = 0; p < 3; p++) {
		if (m->prog[p])
			dev->ops->program_destroy(dev, m->prog[p]);
		free(m->code[p]);
		lumen_modeled_plan_free(&m->modeled_plan[p]);
	}
	if (m->act.host)
		dev->ops->buf_free(dev, &m->act);
	if (m->weights.host)
		dev->ops->buf_free(dev, &m->weights);
	lumen_tokenizer_destroy(m->tok);
	free(m->chat_template);
	lnpu_close(&m->file);
	free(m);
}

void lumen_model_get_info(const struct lumen_model *m,
			  struct lumen_model_info *info)
{
	const struct lnpu_meta *meta = &m->file.meta;

	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%.*s",
		 (int)sizeof(meta->name), meta->name);
	snprintf(info->arch, sizeof(info->arch), "%.*s",
		 (int)sizeof(meta->arch), meta->arch);
	info->n_vocab = meta->n_vocab;
	info->n_embd = meta->n_embd;
	info->n_layer = meta->n_layer;
	info->n_head = meta->n_head;
	info->n_head_kv = meta->n_head_kv;
	info->n_ff = meta->n_ff;
	info->ctx = meta->ctx;
	info->prefill_chunk = meta->prefill_chunk;
	info->weight_dtype = meta->quant;
	info->kv_dtype = meta->kv_dtype;
	info->n_params = meta->n_params;
	info->file_size = m->file.size;
	info->weight_bytes = m->file.weights_size;
	info->weight_bytes_copied = m->weight_bytes_copied;
}

const struct lumen_tokenizer *lumen_model_tokenizer(const struct lumen_model *m)
{
	return m->tok;
}

const char *lumen_model_chat_template(const struct lumen_model *m)
{
	return m ? m->chat_template : NULL;
}
