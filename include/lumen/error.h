/* SPDX-License-Identifier: MIT */
/*
 * liblumen's error convention, the same for every public function
 * (<lumen/lumen.h>, <lumen/tokenizer.h>, <lumen/sampling.h>):
 *
 * - A function that can fail returns a signed integer: 0 (or, for a count
 *   or an id, a value >= 0) on success, a negative enum lumen_error on
 *   failure. lumen_tokenize() returning LUMEN_E_NOMEM, lumen_session_argmax()
 *   returning LUMEN_E_INVAL before any output, ...
 * - A constructor returns that int and hands its object out through its
 *   last argument, which is NULL after a failure:
 *   lumen_model_load(dev, path, opt, &model),
 *   lumen_tokenizer_create(desc, &tok), lumen_sampler_create(n, p, &s).
 *   (lumen_device_open(&dev, opt) has it first.)
 * - The one accessor returning a pointer that can fail,
 *   lumen_session_logits(), returns NULL.
 * - Every failure records a message for the calling thread:
 *   lumen_last_error(), e.g. "model.lnpu: offset 4096: weights: CRC32C
 *   mismatch". Success does not clear it (like errno): read it only after
 *   a failure. lumen_strerror() names a code.
 * - What cannot fail returns void or a plain value. A lookup that finds
 *   nothing is not a failure: lumen_tokenizer_find() returns
 *   LUMEN_TOKEN_NONE, lumen_token_type() of an unknown id is
 *   LUMEN_TOKEN_UNUSED, and lumen_last_error() is left alone.
 * - A NULL object handle where one is required is a bug, not an error:
 *   it is not checked (the *_free / *_destroy / *_close calls accept NULL).
 *
 * The codes are stable ABI: values are never reused.
 */
#ifndef LUMEN_ERROR_H
#define LUMEN_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum lumen_error {
	LUMEN_OK = 0,
	LUMEN_E_INVAL = -1,		/* a bad argument */
	LUMEN_E_NOMEM = -2,		/* out of memory */
	LUMEN_E_IO = -3,		/* a file could not be read */
	LUMEN_E_FORMAT = -4,		/* not a valid .lnpu file (or vocabulary) */
	LUMEN_E_NODEV = -5,		/* no such device */
	LUMEN_E_UNSUPPORTED = -6,	/* the backend cannot do this */
	LUMEN_E_CONTEXT = -7,		/* the KV cache is full */
	LUMEN_E_FAULT = -8,		/* the device stopped a job */
	LUMEN_E_DEVICE = -9,		/* the device failed a request */
};

/* "invalid argument", ... for an enum lumen_error */
const char *lumen_strerror(int err);
/* the detail of this thread's last failure ("" if none yet) */
const char *lumen_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* LUMEN_ERROR_H */
