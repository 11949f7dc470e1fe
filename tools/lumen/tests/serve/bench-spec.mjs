// SPDX-License-Identifier: MIT
// lumen serve with and without speculative decoding, side by side in one
// run: one server (lumen serve --draft DRAFT, so that every kind is at
// hand) answers the same greedy request decoded plainly, with n-gram
// lookup and with the draft model, chosen per request with
// {"lumen": {"spec": ...}}, the three kinds alternating REPS times. A
// second server does the same with --draft-always (no timed backoff).
// Per kind: the median decode rate (tokens after the first over the time
// after the first, from the answer's own time_to_first_token_ns and
// total_ns), its ratio to plain decoding's, the acceptance and the
// tokens per submission. Every answer is checked to be plain decoding's
// text. What `make bench-serve-spec` prints.
//
//   node bench-spec.mjs LUMEN MODEL DRAFT [--reps 7] [--max-tokens 100] [-- SERVER ARGS]
import assert from 'node:assert/strict';
import { loadOpenAI, startServer, percentile } from './lib.mjs';

const OpenAI = loadOpenAI();
const PROMPTS = {
	repetitive: 'Lily and Tom went to the park. Lily and Tom went to the park. Lily and',
	'once upon': 'Once upon a time',
};
const KINDS = ['none', 'ngram', 'draft'];

function parseArgs(argv) {
	const [lumen, model, draft, ...rest] = argv;
	const o = { lumen, model, draft, reps: 7, maxTokens: 100, server: [] };
	for (let i = 0; i < rest.length; i++) {
		if (rest[i] === '--') {
			o.server = rest.slice(i + 1);
			break;
		}
		if (rest[i] === '--reps')
			o.reps = Number(rest[++i]);
		else if (rest[i] === '--max-tokens')
			o.maxTokens = Number(rest[++i]);
		else
			throw new Error(`unknown argument ${rest[i]}`);
	}
	if (!lumen || !model || !draft)
		throw new Error('usage: node bench-spec.mjs LUMEN MODEL DRAFT [--reps N] [--max-tokens N] [-- SERVER ARGS]');
	return o;
}

async function round(o, extra) {
	const srv = await startServer(o.lumen, ['-m', o.model, '--draft', o.draft, ...extra, ...o.server]);
	const rows = [];
	try {
		const client = new OpenAI({ baseURL: srv.url, apiKey: 'x', maxRetries: 0, timeout: 600000 });
		const model = (await client.models.list()).data[0].id;
		for (const [name, prompt] of Object.entries(PROMPTS)) {
			const runs = Object.fromEntries(KINDS.map((k) => [k, []]));
			let plainText = null;
			for (let r = 0; r < o.reps; r++) {
				for (const kind of KINDS) {
					const a = await client.completions.create({ model, prompt, max_tokens: o.maxTokens,
						temperature: 0, lumen: { spec: kind } });
					plainText ??= a.choices[0].text;
					assert.equal(a.choices[0].text, plainText, `${kind}: not plain decoding's text`);
					const x = a.lumen;
					const decodeNs = x.total_ns - x.time_to_first_token_ns;
					runs[kind].push({ rate: (a.usage.completion_tokens - 1) * 1e9 / decodeNs, spec: x.speculative });
				}
			}
			const plain = percentile(runs.none.map((s) => s.rate), 50);
			for (const kind of KINDS) {
				const rate = percentile(runs[kind].map((s) => s.rate), 50);
				const sum = (f) => runs[kind].reduce((t, s) => t + s.spec[f], 0);
				rows.push({ prompt: name, kind, rate, ratio: rate / plain,
					acceptance: sum('drafted') ? sum('accepted') / sum('drafted') : null,
					tps: sum('tokens') / sum('submissions') });
			}
		}
	} finally {
		const { code, stderr } = await srv.stop();
		assert.equal(code, 0, stderr);
	}
	return rows;
}

const o = parseArgs(process.argv.slice(2));
console.log(`lumen serve ${o.model} --draft ${o.draft} ${o.server.join(' ')}: greedy, ${o.maxTokens} tokens, median of ${o.reps} alternating runs`);
for (const [label, extra] of [['timed backoff (default)', []], ['--draft-always', ['--draft-always']]]) {
	const rows = await round(o, extra);
	console.log(`\n${label}`);
	console.log('prompt       kind    decode tok/s  vs plain  acceptance  tokens/submission');
	for (const r of rows)
		console.log(`${r.prompt.padEnd(12)} ${r.kind.padEnd(6)} ${r.rate.toFixed(0).padStart(13)} ${r.ratio.toFixed(2).padStart(8)}x` +
			` ${(r.acceptance === null ? '-' : (100 * r.acceptance).toFixed(1) + '%').padStart(11)} ${r.tps.toFixed(2).padStart(18)}`);
}
