// SPDX-License-Identifier: MIT
// A bounded load test of lumen serve on loopback: C clients, each making R
// streamed requests one after another, every answer checked complete (a
// finish reason, then the end of the stream) and correct (at temperature
// 0, the same text as the same request made alone). Time to first token
// and total time per request, as percentiles; with one high-priority
// client among low-priority ones, the two groups side by side.
//
//   node load.mjs LUMEN MODEL [--clients 8] [--requests 20] [--max-tokens 32]
//                 [--parallel 4] [SERVER ARGS after --]
//   node load.mjs URL - [...]        against a server already running
// runs two rounds (all "normal"; one "high" client among "low" ones) and
// prints their figures: what `make bench-serve` reports. The serve suite
// imports runLoad() for a short round that asserts completeness and
// correctness only, never a time.
import { loadOpenAI, startServer, percentile } from './lib.mjs';

const PROMPTS = ['Once upon a time', 'The little dog', 'Lily and Ben went', 'One day, a bird',
	'Tom had a red ball', 'The sun was', 'Mom said', 'In the park'];

const fmt = (ns) => (ns / 1e6).toFixed(1);

export async function runLoad({ client, model, clients, requests, maxTokens, highClient }) {
	const reference = new Map();
	for (const p of PROMPTS) {
		const r = await client.completions.create({ model, prompt: p, max_tokens: maxTokens, temperature: 0 });
		reference.set(p, r.choices[0].text);
	}
	const failures = [], samples = [];
	let completed = 0;
	const one = async (ci, ri) => {
		const prompt = PROMPTS[(ci + ri) % PROMPTS.length];
		const priority = highClient ? (ci < highClient ? 'high' : 'low') : 'normal';
		const t0 = process.hrtime.bigint();
		let first = null, text = '', finish = null;
		const stream = await client.completions.create({
			model, prompt, max_tokens: maxTokens, temperature: 0, stream: true, priority,
		});
		for await (const chunk of stream) {
			for (const c of chunk.choices) {
				if (c.text && first === null)
					first = process.hrtime.bigint();
				text += c.text ?? '';
				if (c.finish_reason)
					finish = c.finish_reason;
			}
		}
		const t1 = process.hrtime.bigint();
		if (!finish)
			failures.push(`client ${ci} request ${ri}: no finish_reason`);
		else if (text !== reference.get(prompt))
			failures.push(`client ${ci} request ${ri}: "${text}" is not "${reference.get(prompt)}" (alone)`);
		else
			completed++;
		samples.push({ priority, ttft: Number((first ?? t1) - t0), total: Number(t1 - t0) });
	};
	const t0 = process.hrtime.bigint();
	await Promise.all(Array.from({ length: clients }, async (_, ci) => {
		for (let ri = 0; ri < requests; ri++) {
			try {
				await one(ci, ri);
			} catch (e) {
				failures.push(`client ${ci} request ${ri}: ${e.message}`);
			}
		}
	}));
	const wall = Number(process.hrtime.bigint() - t0);
	const stats = (pred) => {
		const s = samples.filter(pred);
		return {
			n: s.length,
			ttft50: percentile(s.map((x) => x.ttft), 50), ttft99: percentile(s.map((x) => x.ttft), 99),
			total50: percentile(s.map((x) => x.total), 50), total99: percentile(s.map((x) => x.total), 99),
		};
	};
	return { completed, failures, wall, all: stats(() => true),
		high: stats((x) => x.priority === 'high'), low: stats((x) => x.priority === 'low') };
}

function row(name, s) {
	return `${name.padEnd(22)} ${String(s.n).padStart(5)} ${fmt(s.ttft50).padStart(10)} ${fmt(s.ttft99).padStart(10)} ${fmt(s.total50).padStart(10)} ${fmt(s.total99).padStart(10)}`;
}

async function main(argv) {
	const [lumen, model, ...rest] = argv;
	const opt = { clients: 8, requests: 20, 'max-tokens': 32, parallel: 4 };
	const extra = [];
	for (let i = 0; i < rest.length; i++) {
		if (rest[i] === '--') {
			extra.push(...rest.slice(i + 1));
			break;
		}
		const k = rest[i].replace(/^--/, '');
		if (!(k in opt))
			throw new Error(`load.mjs: unknown option ${rest[i]}`);
		opt[k] = Number(rest[++i]);
	}
	const OpenAI = loadOpenAI();
	// LUMEN may be a running server's URL instead (the NPU bench in the guest)
	const srv = /^https?:/.test(lumen) ? { url: lumen, stop: async () => ({ code: 0 }) } :
		await startServer(lumen, ['-m', model, '--parallel', String(opt.parallel),
			'--queue', String(opt.clients), ...extra]);
	let failed = 0;
	try {
		const client = new OpenAI({ baseURL: srv.url, apiKey: process.env.SERVE_KEY ?? 'x',
			maxRetries: 0, timeout: 600000 });
		const model_id = (await client.models.list()).data[0].id;
		const args = { client, model: model_id, clients: opt.clients, requests: opt.requests,
			maxTokens: opt['max-tokens'] };
		console.log(`lumen serve load: ${opt.clients} clients x ${opt.requests} streamed requests of ${opt['max-tokens']} tokens, --parallel ${opt.parallel}, ${srv.url} ${extra.join(' ')}`);
		console.log(`${'round'.padEnd(22)} ${'reqs'.padStart(5)} ${'TTFT p50'.padStart(10)} ${'TTFT p99'.padStart(10)} ${'total p50'.padStart(10)} ${'total p99'.padStart(10)}   (ms)`);
		const even = await runLoad({ ...args, highClient: 0 });
		console.log(row('all normal', even.all));
		const mixed = await runLoad({ ...args, highClient: 1 });
		console.log(row('1 high client', mixed.high));
		console.log(row(`${opt.clients - 1} low clients`, mixed.low));
		console.log(`high vs low, p50: time to first token ${(mixed.low.ttft50 / mixed.high.ttft50).toFixed(2)}x lower, total ${(mixed.low.total50 / mixed.high.total50).toFixed(2)}x lower (same run)`);
		for (const r of [even, mixed]) {
			console.log(`completed ${r.completed} of ${opt.clients * opt.requests}, ${r.failures.length} failed, wall ${fmt(r.wall)} ms`);
			for (const f of r.failures)
				console.log(`  ${f}`);
			failed += r.failures.length + (opt.clients * opt.requests - r.completed);
		}
	} finally {
		const { code, stderr } = await srv.stop();
		if (code !== 0) {
			console.log(`lumen serve exited ${code}: ${stderr}`);
			failed++;
		}
	}
	process.exitCode = failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`)
	await main(process.argv.slice(2));
