// SPDX-License-Identifier: MIT
// lumen serve, driven by the official openai client (and curl, and raw
// sockets for what a client library would never send). Run by
// `make suite-serve` with node --test; TAP on stdout.
//   LUMEN        the lumen binary (the suite uses the ASan+UBSan build)
//   LUMEN_MODEL  a .lnpu (stories260K)
//   LUMEN_OPENAI_DIR  where setup-client installed the openai package
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { loadOpenAI, startServer, health, waitHealth } from './lib.mjs';
import { runLoad } from './load.mjs';

const OpenAI = loadOpenAI();
const LUMEN = process.env.LUMEN;
const MODEL = process.env.LUMEN_MODEL;
const COMMON = ['-m', MODEL, '--device', 'cpu', '-t', '1'];
const PROMPT = 'Once upon a time';

let srv, client, modelId;

before(async () => {
	srv = await startServer(LUMEN, [...COMMON, '--parallel', '2', '--max-tokens', '256']);
	client = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0, timeout: 60000 });
});

after(async () => {
	const { code, stderr } = await srv.stop();
	assert.equal(code, 0, `lumen serve exited ${code} after SIGTERM: ${stderr}`);
});

async function streamText(stream, field) {
	let text = '', finish = null, usage = null, last = null, chunks = 0;
	for await (const chunk of stream) {
		chunks++;
		if (chunk.usage)
			usage = chunk.usage;
		if (chunk.lumen)
			last = chunk.lumen;
		for (const c of chunk.choices) {
			text += field(c) ?? '';
			if (c.finish_reason)
				finish = c.finish_reason;
		}
	}
	return { text, finish, usage, lumen: last, chunks };
}

const chatText = (c) => c.delta?.content;
const completionText = (c) => c.text;

function checkUsage(u, maxTokens) {
	assert.ok(u.prompt_tokens > 0, 'prompt_tokens > 0');
	assert.ok(u.completion_tokens > 0 && u.completion_tokens <= maxTokens,
		`completion_tokens ${u.completion_tokens} in 1..${maxTokens}`);
	assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
}

test('GET /v1/models lists the served model; /v1/models/ID finds it', async () => {
	const list = await client.models.list();
	assert.equal(list.data.length, 1);
	modelId = list.data[0].id;
	assert.equal(modelId, 'stories260K-q8_0');
	const m = await client.models.retrieve(modelId);
	assert.equal(m.id, modelId);
	await assert.rejects(client.models.retrieve('gpt-4o'), (e) => e.status === 404);
});

test('completion: the same text as `lumen run` at temperature 0, usage and the device extension', async () => {
	const r = await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 24, temperature: 0,
	});
	const run = execFileSync(LUMEN, ['run', ...COMMON, '--temp', '0', '-n', '24',
		'--no-stats', '-p', PROMPT], { encoding: 'utf8' });
	assert.equal(PROMPT + r.choices[0].text + '\n', run);
	assert.equal(r.object, 'text_completion');
	assert.equal(r.choices[0].finish_reason, 'length');
	checkUsage(r.usage, 24);
	assert.equal(r.usage.completion_tokens, 24);
	assert.equal(r.lumen.backend, 'cpu');
	assert.equal(r.lumen.device_submissions, 24, 'one prefill and 23 decodes');
	assert.ok(r.lumen.total_ns >= r.lumen.time_to_first_token_ns);
	assert.equal(r.lumen.energy_uj, null, 'the CPU backend has no energy counter');
});

test('streamed completion: the same text, chunk by chunk, usage in the last chunk', async () => {
	const plain = await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 40, temperature: 0,
	});
	const s = await streamText(await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 40, temperature: 0, stream: true,
	}), completionText);
	assert.equal(s.text, plain.choices[0].text);
	assert.ok(s.chunks > 10, `${s.chunks} chunks: streamed token by token`);
	assert.equal(s.finish, 'length');
	assert.deepEqual(s.usage, plain.usage);
	assert.equal(s.lumen.device_submissions, 40);
});

test('chat: the template renders the messages; plain and streamed answers agree', async () => {
	const req = {
		model: modelId, max_tokens: 32, temperature: 0,
		messages: [{ role: 'system', content: 'You tell stories.' },
			{ role: 'user', content: 'Tell me about a cat.' }],
	};
	const r = await client.chat.completions.create(req);
	assert.equal(r.object, 'chat.completion');
	assert.equal(r.choices[0].message.role, 'assistant');
	assert.ok(r.choices[0].message.content.length > 0);
	checkUsage(r.usage, 32);
	// chatml (the default for a model without a template) around both turns
	assert.ok(r.usage.prompt_tokens > 20, `prompt_tokens ${r.usage.prompt_tokens}`);
	const s = await streamText(await client.chat.completions.create({ ...req, stream: true,
		stream_options: { include_usage: true } }), chatText);
	assert.equal(s.text, r.choices[0].message.content);
	assert.equal(s.finish, r.choices[0].finish_reason);
	assert.deepEqual(s.usage, r.usage);
	// array-of-parts content is the same text
	const parts = await client.chat.completions.create({ ...req, messages: [req.messages[0],
		{ role: 'user', content: [{ type: 'text', text: 'Tell me about ' }, { type: 'text', text: 'a cat.' }] }] });
	assert.equal(parts.choices[0].message.content, r.choices[0].message.content);
});

test('stop sequences end the text before them, plain and streamed', async () => {
	const full = (await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 60, temperature: 0,
	})).choices[0].text;
	const words = full.split(' ').filter((w) => w.length > 3);
	const stopWord = ' ' + words[Math.floor(words.length / 2)];
	const cut = full.slice(0, full.indexOf(stopWord));
	assert.ok(cut.length > 0 && cut.length < full.length);
	const r = await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 60, temperature: 0, stop: [stopWord, 'zzzz'],
	});
	assert.equal(r.choices[0].text, cut);
	assert.equal(r.choices[0].finish_reason, 'stop');
	const s = await streamText(await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 60, temperature: 0, stop: stopWord, stream: true,
	}), completionText);
	assert.equal(s.text, cut, 'a stream holds back what may become a stop sequence');
	assert.equal(s.finish, 'stop');
});

test('seeded sampling is deterministic; another seed gives another text', async () => {
	const ask = (seed) => client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 40, temperature: 1, top_p: 0.95, seed,
	}).then((r) => r.choices[0].text);
	const a = await ask(42), b = await ask(42), c = await ask(7);
	assert.equal(a, b);
	assert.notEqual(a, c);
	const s = await streamText(await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 40, temperature: 1, top_p: 0.95, seed: 42, stream: true,
	}), completionText);
	assert.equal(s.text, a);
});

test('errors: OpenAI error objects with the right status, through the client', async () => {
	const expect = async (p, status, param) => {
		await assert.rejects(p, (e) => {
			assert.equal(e.status, status, e.message);
			if (param)
				assert.equal(e.param, param);
			assert.ok(e.error?.message || e.message);
			return true;
		});
	};
	await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), 404, 'model');
	await expect(client.chat.completions.create({ model: modelId, messages: [] }), 400, 'messages');
	await expect(client.chat.completions.create({ model: modelId, messages: [{ role: 'wizard', content: 'x' }] }), 400, 'messages');
	await expect(client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: 100000 }), 400, 'max_tokens');
	await expect(client.completions.create({ model: modelId, prompt: PROMPT, temperature: 3 }), 400, 'temperature');
	await expect(client.completions.create({ model: modelId, prompt: PROMPT, n: 2 }), 400, 'n');
	await expect(client.completions.create({ model: modelId, prompt: PROMPT, stop: ['a', 'b', 'c', 'd', 'e'] }), 400, 'stop');
	await expect(client.completions.create({ model: modelId, prompt: PROMPT, priority: 'urgent' }), 400, 'priority');
	await expect(client.completions.create({ model: modelId, prompt: [1, 2, 3] }), 400, 'prompt');
	await expect(client.completions.create({ model: modelId, prompt: 'story '.repeat(2000), max_tokens: 4 }), 400, 'prompt');
	await expect(client.post('/nowhere', { body: {} }), 404);
});

test('curl: raw bodies, the size limit, methods, SSE framing', async () => {
	const curl = (...args) => execFileSync('curl', ['-s', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
	const curlStdin = (input, ...args) => execFileSync('curl', ['-s', '-w', '\n%{http_code}', '--data-binary', '@-', ...args],
		{ encoding: 'utf8', input, maxBuffer: 1 << 20 });
	const status = (out) => Number(out.slice(out.lastIndexOf('\n') + 1));
	const body = (out) => JSON.parse(out.slice(0, out.lastIndexOf('\n')));
	let out = curl(`${srv.url}/completions`, '-d', '{"prompt": "x",');
	assert.equal(status(out), 400);
	assert.match(body(out).error.message, /not valid JSON/);
	assert.equal(body(out).error.type, 'invalid_request_error');
	out = curl(`${srv.url}/completions`, '-d', '{"prompt": "a", "prompt": "b"}');
	assert.equal(status(out), 400, 'duplicate keys are refused');
	out = curl(`${srv.url}/completions`, '-d', '[1, 2]');
	assert.equal(status(out), 400);
	// said by Content-Length, then sent chunked (no length known ahead)
	out = curlStdin(`{"prompt": "${'a'.repeat(2 << 20)}"}`, `${srv.url}/completions`);
	assert.equal(status(out), 413);
	assert.equal(body(out).error.code, 'request_too_large');
	out = curlStdin(`{"prompt": "${'a'.repeat(2 << 20)}"}`, `${srv.url}/completions`, '-H', 'Transfer-Encoding: chunked');
	assert.equal(status(out), 413);
	assert.equal(body(out).error.code, 'request_too_large');
	out = curl(`${srv.url}/completions`);
	assert.equal(status(out), 405);
	out = curl(`${srv.base}/v2/anything`);
	assert.equal(status(out), 404);
	out = execFileSync('curl', ['-sN', `${srv.url}/chat/completions`, '-H', 'X-Lumen-Priority: high',
		'-d', JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 0, stream: true })],
	{ encoding: 'utf8' });
	const events = out.split('\n\n').filter((e) => e);
	assert.equal(events.at(-1), 'data: [DONE]');
	for (const e of events.slice(0, -1)) {
		assert.ok(e.startsWith('data: '), e);
		assert.equal(JSON.parse(e.slice(6)).object, 'chat.completion.chunk');
	}
	assert.equal(JSON.parse(events.at(-2).slice(6)).lumen.priority, 'high', 'the header sets the priority');
});

test('malformed HTTP gets an error and the server goes on', async () => {
	const { port, hostname } = new URL(srv.base);
	for (const junk of ['GARBAGE\r\n\r\n', 'POST /v1/completions HTTP/1.1\r\nContent-Length: 5\r\n\r\nab',
		'POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
		'\x00\xff\xfe\r\n\r\n']) {
		const reply = await new Promise((resolve) => {
			const sock = net.connect(Number(port), hostname, () => sock.end(junk));
			let data = '';
			sock.on('data', (d) => { data += d; });
			sock.on('close', () => resolve(data));
			sock.on('error', () => resolve(data));
		});
		assert.ok(reply === '' || /^HTTP\/1\.[01] [45]\d\d/.test(reply), `reply to junk: ${reply.slice(0, 80)}`);
	}
	assert.equal((await health(srv.base)).status, 'ok');
});

test('a client that goes away mid-stream ends its generation and frees its session', async () => {
	const before = await health(srv.base);
	const stream = await client.completions.create({
		model: modelId, prompt: PROMPT, max_tokens: 256, temperature: 0, stream: true,
	});
	let n = 0;
	for await (const chunk of stream) {
		if (chunk.choices.length && ++n === 3)
			break;	// the openai client aborts the request
	}
	const h = await waitHealth(srv.base, (x) => x.requests.cancelled > before.requests.cancelled && x.slots.active === 0);
	assert.equal(h.requests.cancelled, before.requests.cancelled + 1, JSON.stringify(h));
	assert.equal(h.slots.active, 0);
	const r = await client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: 4, temperature: 0 });
	assert.equal(r.usage.completion_tokens, 4);
});

test('concurrent streams (4 clients x 3, one of them high priority) are complete and each as it is alone', async () => {
	const r = await runLoad({ client, model: modelId, clients: 4, requests: 3, maxTokens: 24, highClient: 1 });
	assert.equal(r.failures.length, 0, r.failures.join('\n'));
	assert.equal(r.completed, 12);
});

test('the API key: 401 without it, served with it; /health stays open', async () => {
	const keyed = await startServer(LUMEN, [...COMMON, '--api-key', 'sesame']);
	try {
		const bad = new OpenAI({ baseURL: keyed.url, apiKey: 'wrong', maxRetries: 0, timeout: 60000 });
		await assert.rejects(bad.models.list(), (e) => e.status === 401 && e.code === 'invalid_api_key');
		const nokey = await fetch(`${keyed.url}/models`);
		assert.equal(nokey.status, 401);
		const good = new OpenAI({ baseURL: keyed.url, apiKey: 'sesame', maxRetries: 0, timeout: 60000 });
		assert.equal((await good.models.list()).data.length, 1);
		assert.equal((await fetch(`${keyed.base}/health`)).status, 200);
	} finally {
		const { code, stderr } = await keyed.stop();
		assert.equal(code, 0, stderr);
	}
});

test('a full queue answers 429; the held request still completes', async () => {
	const small = await startServer(LUMEN, [...COMMON, '--parallel', '1', '--queue', '0']);
	try {
		const c = new OpenAI({ baseURL: small.url, apiKey: 'x', maxRetries: 0, timeout: 60000 });
		const stream = await c.completions.create({
			model: 'stories260K-q8_0', prompt: PROMPT, max_tokens: 200, temperature: 0, stream: true,
		});
		const it = stream[Symbol.asyncIterator]();
		await it.next();	// the first chunk: the one session is taken
		await assert.rejects(c.completions.create({ model: 'stories260K-q8_0', prompt: PROMPT, max_tokens: 2 }),
			(e) => e.status === 429 && e.code === 'queue_full');
		let text = '';
		for (let x = await it.next(); !x.done; x = await it.next())
			text += x.value.choices[0]?.text ?? '';
		assert.ok(text.length > 0);
		const h = await health(small.base);
		assert.equal(h.requests.rejected, 1);
		assert.equal(h.requests.served, 1);
	} finally {
		const { code, stderr } = await small.stop();
		assert.equal(code, 0, stderr);
	}
});

test('a storm of streams dropped at random points and refused ones leaves the accounts square', async () => {
	const small = await startServer(LUMEN, [...COMMON, '--parallel', '2', '--queue', '3']);
	try {
		const c = new OpenAI({ baseURL: small.url, apiKey: 'x', maxRetries: 0, timeout: 60000 });
		let refused = 0, dropped = 0, done = 0;
		await Promise.all(Array.from({ length: 24 }, async (_, i) => {
			const ac = new AbortController();
			try {
				const stream = await c.completions.create({ model: 'stories260K-q8_0', prompt: PROMPT,
					max_tokens: 64, temperature: 0, stream: true, priority: ['low', 'normal', 'high'][i % 3] },
				{ signal: ac.signal });
				let n = 0;
				for await (const chunk of stream) {
					if (chunk.choices.length && ++n === 1 + (i * 7) % 40 && i % 4) {
						ac.abort();
						break;
					}
				}
				if (ac.signal.aborted)
					dropped++;
				else
					done++;
			} catch (e) {
				if (e.status === 429)
					refused++;
				else if (ac.signal.aborted)
					dropped++;
				else
					throw e;
			}
		}));
		assert.equal(refused + dropped + done, 24);
		assert.ok(refused > 0, 'some were refused: 24 at once, room for 5');
		const h = await waitHealth(small.base, (x) => x.slots.active === 0 && x.slots.waiting === 0 &&
			x.requests.served + x.requests.cancelled === dropped + done);
		assert.equal(h.slots.active, 0, JSON.stringify(h));
		assert.equal(h.slots.waiting, 0, JSON.stringify(h));
		assert.equal(h.requests.rejected, refused);
		assert.equal(h.requests.served + h.requests.cancelled, dropped + done, JSON.stringify(h));
		const r = await c.completions.create({ model: 'stories260K-q8_0', prompt: PROMPT, max_tokens: 4, temperature: 0 });
		assert.equal(r.usage.completion_tokens, 4, 'served after the storm');
	} finally {
		const { code, stderr } = await small.stop();
		assert.equal(code, 0, stderr);
	}
});

test('a client that leaves before its whole (non-streamed) answer stops its generation', async () => {
	const before = await health(srv.base);
	const { port, hostname } = new URL(srv.base);
	const body = JSON.stringify({ prompt: PROMPT, max_tokens: 256, temperature: 0 });
	await new Promise((resolve) => {
		const sock = net.connect(Number(port), hostname, () => {
			sock.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
				() => { sock.destroy(); resolve(); });
		});
	});
	const h = await waitHealth(srv.base, (x) => x.requests.cancelled > before.requests.cancelled ||
		x.requests.served > before.requests.served);
	assert.equal(h.requests.served, before.requests.served, 'not generated to its end for no one');
	assert.equal(h.requests.cancelled, before.requests.cancelled + 1, JSON.stringify(h));
	assert.equal(h.slots.active, 0);
});

test('--ctx bounds the prompt and the answer', async () => {
	const small = await startServer(LUMEN, [...COMMON, '-c', '32']);
	try {
		const c = new OpenAI({ baseURL: small.url, apiKey: 'x', maxRetries: 0, timeout: 60000 });
		await assert.rejects(c.completions.create({ model: 'stories260K-q8_0', prompt: 'story '.repeat(40), max_tokens: 4 }),
			(e) => e.status === 400 && e.code === 'context_length_exceeded' && /holds 32/.test(e.message));
		const r = await c.completions.create({ model: 'stories260K-q8_0', prompt: PROMPT, max_tokens: 200, temperature: 0 });
		assert.equal(r.choices[0].finish_reason, 'length');
		assert.ok(r.usage.total_tokens <= 33, JSON.stringify(r.usage));
	} finally {
		const { code, stderr } = await small.stop();
		assert.equal(code, 0, stderr);
	}
});

// ---- speculative decoding (lumen serve --spec ngram / --draft) ----
// Greedy speculative output is plain decoding's token for token, so every
// answer below is compared with the plain server's (or lumen run's) text.
const DIR = process.env.LUMEN_MODEL_DIR;
const REPEAT = 'Lily and Tom went to the park. Lily and Tom went to the park. Lily and';

async function answers(c, model, prompt, max_tokens, extra = {}) {
	const r = await c.completions.create({ model, prompt, max_tokens, temperature: 0, ...extra });
	const s = await streamText(await c.completions.create({
		model, prompt, max_tokens, temperature: 0, stream: true, ...extra,
	}), completionText);
	return { r, s };
}

async function stopAt(c, model, prompt, full, extra = {}) {
	const words = full.split(' ').filter((w) => w.length > 3);
	const stopWord = ' ' + words[Math.floor(words.length / 2)];
	const cut = full.slice(0, full.indexOf(stopWord));
	assert.ok(cut.length > 0 && cut.length < full.length);
	const r = await c.completions.create({ model, prompt, max_tokens: 60, temperature: 0, stop: stopWord, ...extra });
	const s = await streamText(await c.completions.create({
		model, prompt, max_tokens: 60, temperature: 0, stop: [stopWord], stream: true, ...extra,
	}), completionText);
	return { cut, r, s };
}

test('--spec ngram: the plain greedy text, plain and streamed, with stop strings and two requests at once', async () => {
	const spec = await startServer(LUMEN, [...COMMON, '--spec', 'ngram', '--draft-always', '--parallel', '2']);
	try {
		const c = new OpenAI({ baseURL: spec.url, apiKey: 'x', maxRetries: 0, timeout: 60000 });
		for (const prompt of [PROMPT, REPEAT]) {
			const plain = (await client.completions.create({
				model: modelId, prompt, max_tokens: 60, temperature: 0,
			})).choices[0].text;
			const { r, s } = await answers(c, modelId, prompt, 60);
			assert.equal(r.choices[0].text, plain, `${prompt}: not streamed`);
			assert.equal(s.text, plain, `${prompt}: streamed`);
			assert.equal(r.usage.completion_tokens, 60);
			assert.deepEqual(s.usage, r.usage);
			const x = r.lumen.speculative;
			assert.equal(x.kind, 'ngram');
			assert.ok(x.verifications > 0, JSON.stringify(x));
			assert.ok(x.accepted <= x.drafted);
			assert.equal(x.tokens, 59, 'every token after the prefill\'s came from a round');
			assert.equal(x.submissions, r.lumen.device_submissions - 1, 'one prefill, then one job a round');
			assert.ok(Math.abs(x.tokens_per_submission - x.tokens / x.submissions) < 1e-9);
			if (prompt === REPEAT) {
				assert.ok(x.accepted > 0 && x.tokens_per_submission > 1, JSON.stringify(x));
				assert.ok(Math.abs(x.acceptance - x.accepted / x.drafted) < 1e-9);
			}
			const st = await stopAt(c, modelId, prompt, plain);
			assert.equal(st.r.choices[0].text, st.cut);
			assert.equal(st.r.choices[0].finish_reason, 'stop');
			assert.equal(st.s.text, st.cut);
			assert.equal(st.s.finish, 'stop');
		}
		// two at once, interleaved round by round on the device
		const solo = await Promise.all([PROMPT, REPEAT].map((prompt) => client.completions.create({
			model: modelId, prompt, max_tokens: 48, temperature: 0 }).then((r) => r.choices[0].text)));
		const both = await Promise.all([PROMPT, REPEAT].map(async (prompt) => (await streamText(
			await c.completions.create({ model: modelId, prompt, max_tokens: 48, temperature: 0, stream: true }),
			completionText)).text));
		assert.deepEqual(both, solo);
		// a request may decode plainly on a speculative server
		const none = await c.completions.create({ model: modelId, prompt: REPEAT, max_tokens: 24, temperature: 0,
			lumen: { spec: 'none' } });
		assert.equal(none.lumen.speculative.kind, 'none');
		assert.equal(none.lumen.speculative.verifications, 0);
		assert.equal(none.lumen.device_submissions, 24);
		assert.equal(none.choices[0].text, solo[1].slice(0, none.choices[0].text.length));
		const h = await health(spec.base);
		assert.equal(h.speculative.kind, 'ngram');
		assert.ok(h.speculative.verifications > 0 && h.speculative.requests >= 8, JSON.stringify(h.speculative));
		// seeded sampling through the acceptance rule: the same seed, the same text
		const ask = () => c.completions.create({ model: modelId, prompt: REPEAT, max_tokens: 40,
			temperature: 1, top_p: 0.95, seed: 42 }).then((r) => r.choices[0].text);
		assert.equal(await ask(), await ask());
	} finally {
		const { code, stderr } = await spec.stop();
		assert.equal(code, 0, stderr);
	}
});

test('--draft: a Q4_0 draft for the F32 model gives lumen run\'s plain text; a client that leaves frees its slot', async () => {
	const F32 = `${DIR}/stories260K-f32.lnpu`, Q4 = `${DIR}/stories260K-q4_0.lnpu`;
	const dev = ['--device', 'cpu', '-t', '1'];
	const spec = await startServer(LUMEN, ['-m', F32, ...dev, '--draft', Q4, '--parallel', '2']);
	try {
		const c = new OpenAI({ baseURL: spec.url, apiKey: 'x', maxRetries: 0, timeout: 60000 });
		const model = 'stories260K-f32';
		const texts = [];
		for (const prompt of [PROMPT, REPEAT]) {
			const run = execFileSync(LUMEN, ['run', '-m', F32, ...dev, '--temp', '0', '-n', '60',
				'--no-stats', '-p', prompt], { encoding: 'utf8' });
			const { r, s } = await answers(c, model, prompt, 60);
			assert.equal(prompt + r.choices[0].text + '\n', run, `${prompt}: not streamed`);
			assert.equal(prompt + s.text + '\n', run, `${prompt}: streamed`);
			texts.push(r.choices[0].text);
			const x = r.lumen.speculative;
			assert.equal(x.kind, 'draft');
			assert.ok(x.verifications > 0 && x.accepted > 0 && x.tokens_per_submission > 1, JSON.stringify(x));
			assert.ok(x.draft_submissions > 0);
			assert.equal(r.lumen.device_submissions, 1 + x.submissions + x.draft_submissions,
				'the prefill, the rounds and the draft model\'s jobs');
			const st = await stopAt(c, model, prompt, r.choices[0].text);
			assert.equal(st.r.choices[0].text, st.cut);
			assert.equal(st.s.text, st.cut);
			assert.equal(st.s.finish, 'stop');
		}
		const both = await Promise.all([PROMPT, REPEAT].map(async (prompt) => (await streamText(
			await c.completions.create({ model, prompt, max_tokens: 60, temperature: 0, stream: true }),
			completionText)).text));
		assert.deepEqual(both, texts);
		// cancellation: the stream's generation ends, its sessions are freed
		const before = await health(spec.base);
		const stream = await c.completions.create({ model, prompt: REPEAT, max_tokens: 256, temperature: 0, stream: true });
		let n = 0;
		for await (const chunk of stream) {
			if (chunk.choices.length && ++n === 3)
				break;
		}
		const h = await waitHealth(spec.base, (x) => x.requests.cancelled > before.requests.cancelled && x.slots.active === 0);
		assert.equal(h.requests.cancelled, before.requests.cancelled + 1, JSON.stringify(h));
		assert.equal(h.slots.active, 0);
		const again = await c.completions.create({ model, prompt: PROMPT, max_tokens: 60, temperature: 0 });
		assert.equal(again.choices[0].text, texts[0], 'served as before after the cancellation');
	} finally {
		const { code, stderr } = await spec.stop();
		assert.equal(code, 0, `exit ${code} (a leaked draft session fails here under ASan): ${stderr}`);
	}
});

test('--draft: the slot keeps its draft session; later requests reuse it and give the same text and drafts', async () => {
	const F32 = `${DIR}/stories260K-f32.lnpu`, Q4 = `${DIR}/stories260K-q4_0.lnpu`;
	const spec = await startServer(LUMEN, ['-m', F32, '--device', 'cpu', '-t', '1', '--draft', Q4,
		'--draft-always', '--parallel', '1']);
	try {
		const c = new OpenAI({ baseURL: spec.url, apiKey: 'x', maxRetries: 0, timeout: 60000 });
		const ask = async (prompt) => c.completions.create({ model: 'stories260K-f32', prompt,
			max_tokens: 40, temperature: 0 });
		assert.equal((await health(spec.base)).speculative.draft_sessions, 0, 'none before a request');
		const first = await ask(PROMPT);
		assert.equal((await health(spec.base)).speculative.draft_sessions, 1);
		const other = await ask(REPEAT);
		const again = await ask(PROMPT);
		const h = await waitHealth(spec.base, (z) => z.speculative.requests === 3);
		assert.equal(h.speculative.draft_sessions, 1, `one draft session for three requests: ${JSON.stringify(h)}`);
		assert.equal(h.speculative.requests, 3);
		assert.equal(again.choices[0].text, first.choices[0].text);
		assert.notEqual(other.choices[0].text, first.choices[0].text);
		// a draft cache left from the request before would change the drafts
		const x = first.lumen.speculative, y = again.lumen.speculative;
		assert.ok(x.drafted > 0 && x.accepted > 0, JSON.stringify(x));
		for (const k of ['drafted', 'accepted', 'verifications', 'draft_submissions'])
			assert.equal(y[k], x[k], `${k}: ${JSON.stringify(y)} vs ${JSON.stringify(x)}`);
		assert.equal(again.lumen.device_submissions, first.lumen.device_submissions);
	} finally {
		const { code, stderr } = await spec.stop();
		assert.equal(code, 0, `exit ${code} (the kept draft session is freed at exit, else ASan fails here): ${stderr}`);
	}
});

test('--spec refusals: another vocabulary, no verify program, mtp, --spec draft without --draft; per request', async () => {
	const refused = async (args, pattern) => {
		await assert.rejects(startServer(LUMEN, [...COMMON.slice(2), ...args]), (e) => {
			assert.match(e.message, /exited with 1/);
			assert.match(e.message, pattern);
			return true;
		});
	};
	await refused(['-m', MODEL, '--draft', `${DIR}/llama-2-tiny-random.lnpu`],
		/--draft: draft model .* has 32000 tokens, the model .* 512: a draft model needs the same vocabulary/);
	await refused(['-m', `${DIR}/stories260K-q8_0-noverify.lnpu`, '--spec', 'ngram'],
		/no verify program for speculative decoding: compile it again/);
	await refused(['-m', MODEL, '--spec', 'mtp'], /no multi-token-prediction head/);
	await refused(['-m', MODEL, '--spec', 'draft'], /--spec draft needs the draft model: --draft MODEL/);
	await assert.rejects(startServer(LUMEN, [...COMMON, '--spec', 'medusa']), /exited with 2/);
	// on the plain server: no draft model to ask for, and a wrong name
	const expect400 = (body, pattern) => assert.rejects(client.completions.create(
		{ model: modelId, prompt: PROMPT, max_tokens: 4, ...body }), (e) => {
		assert.equal(e.status, 400);
		assert.equal(e.param, 'lumen.spec');
		assert.match(e.message, pattern);
		return true;
	});
	await expect400({ lumen: { spec: 'draft' } }, /no draft model/);
	await expect400({ lumen: { spec: 'eagle' } }, /"none", "ngram" or "draft"/);
	const r = await client.completions.create({ model: modelId, prompt: REPEAT, max_tokens: 24, temperature: 0,
		lumen: { spec: 'ngram' } });
	assert.equal(r.lumen.speculative.kind, 'ngram', 'a plain server speculates when asked');
});
