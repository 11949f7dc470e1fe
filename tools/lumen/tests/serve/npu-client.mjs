// SPDX-License-Identifier: MIT
// The client of suite serve-npu: the openai client against lumen serve
// running on the NPU, both in the QEMU guest (npu-guest.sh). Prints
// "ok - " / "not ok - " lines; makes exactly 5 generation requests.
//   SERVE_URL, SERVE_KEY; GOLDEN_DIR with prompt1/text1, prompt4/text4
//   (llama.cpp's greedy texts for stories260K-f32)
import { readFileSync } from 'node:fs';
import { loadOpenAI } from './lib.mjs';

const OpenAI = loadOpenAI();
const dir = process.env.GOLDEN_DIR;
const golden = (i) => ({ prompt: readFileSync(`${dir}/prompt${i}`, 'utf8'),
	text: readFileSync(`${dir}/text${i}`, 'utf8') });
let failed = 0;
const check = (desc, ok, detail = '') => {
	console.log(`${ok ? 'ok' : 'not ok'} - ${desc}`);
	if (!ok) {
		failed++;
		if (detail)
			console.log(`# ${String(detail).replace(/\n/g, '\n# ')}`);
	}
};
// llama.cpp's text (64 tokens, EOS ignored) starts with ours; all of it
// unless the model ended at EOS first
const sameAsGolden = (g, text, finish) => finish === 'length' ? text === g.text : g.text.startsWith(text) && text.length > 0;

const client = new OpenAI({ baseURL: process.env.SERVE_URL, apiKey: process.env.SERVE_KEY, maxRetries: 0, timeout: 900000 });
try {
	const models = await client.models.list();
	const model = models.data[0].id;
	check('GET /v1/models', model === 'stories260K-f32', model);

	const g1 = golden(1), g4 = golden(4);
	const r = await client.completions.create({ model, prompt: g1.prompt, max_tokens: 64, temperature: 0 });
	check('a completion on the NPU is llama.cpp\'s greedy text', sameAsGolden(g1, r.choices[0].text, r.choices[0].finish_reason),
		`${JSON.stringify(r.choices[0].text)}\nvs ${JSON.stringify(g1.text)}`);
	console.log(`# 64 tokens on the NPU: ${JSON.stringify(r.lumen)}`);
	check('the extension reports the NPU, its busy time and its energy',
		r.lumen.backend === 'npu' && r.lumen.device_busy_ns > 0 && typeof r.lumen.energy_uj === 'number' &&
		r.lumen.device_submissions === r.usage.completion_tokens, JSON.stringify(r.lumen));

	let text = '', finish = null, last = null;
	for await (const chunk of await client.chat.completions.create({ model, stream: true, max_tokens: 24,
		temperature: 0, priority: 'high', messages: [{ role: 'user', content: 'Tell me a story.' }] })) {
		text += chunk.choices[0]?.delta?.content ?? '';
		finish = chunk.choices[0]?.finish_reason ?? finish;
		last = chunk.lumen ?? last;
	}
	check('a streamed chat at high priority on the NPU completes', text.length > 0 && finish !== null &&
		last?.priority === 'high' && last?.backend === 'npu', JSON.stringify({ text, finish, last }));

	const stream = async (g, priority) => {
		let t = '', f = null;
		for await (const chunk of await client.completions.create({ model, prompt: g.prompt, max_tokens: 64,
			temperature: 0, stream: true, priority })) {
			t += chunk.choices[0]?.text ?? '';
			f = chunk.choices[0]?.finish_reason ?? f;
		}
		return { t, f };
	};
	const [a, b] = await Promise.all([stream(g1, 'low'), stream(g4, 'high')]);
	check('two streams at once (low, high), each in its own session, give their golden texts',
		sameAsGolden(g1, a.t, a.f) && sameAsGolden(g4, b.t, b.f), JSON.stringify({ a, b }));

	// speculative decoding on the NPU, asked for by the request: the
	// verify program scores n-gram drafts; greedy text unchanged
	const s = await client.completions.create({ model, prompt: g4.prompt, max_tokens: 64, temperature: 0,
		lumen: { spec: 'ngram' } });
	console.log(`# n-gram lookup on the NPU: ${JSON.stringify(s.lumen.speculative)}`);
	check('--spec ngram (per request) on the NPU gives llama.cpp\'s greedy text, with its figures',
		sameAsGolden(g4, s.choices[0].text, s.choices[0].finish_reason) &&
		s.lumen.speculative.kind === 'ngram' && s.lumen.speculative.tokens >= s.usage.completion_tokens - 1 &&
		s.lumen.device_submissions === 1 + s.lumen.speculative.submissions,
		`${JSON.stringify(s.choices[0].text)}\nvs ${JSON.stringify(g4.text)}\n${JSON.stringify(s.lumen)}`);
} catch (e) {
	check('the client ran to its end', false, e.stack);
}
process.exitCode = failed ? 1 : 0;
