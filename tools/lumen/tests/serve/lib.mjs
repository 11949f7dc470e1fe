// SPDX-License-Identifier: MIT
// What the serve tests and the load test share: starting `lumen serve` on a
// free loopback port, and the openai client installed by setup-client
// (outside the checkout: LUMEN_OPENAI_DIR, its directory).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';

export function loadOpenAI() {
	const dir = process.env.LUMEN_OPENAI_DIR;
	if (!dir)
		throw new Error('LUMEN_OPENAI_DIR is not set (tools/lumen/tests/serve/setup-client prints it)');
	const require = createRequire(`${dir}/node_modules/`);
	return require('openai').OpenAI;
}

// Start `LUMEN serve ARGS --port 0` and wait for its "serving ... at URL"
// line; the server's stderr is kept for the failure message.
export async function startServer(lumen, args, { env = {} } = {}) {
	const proc = spawn(lumen, ['serve', '--port', '0', ...args], {
		env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '', err = '';
	proc.stderr.on('data', (d) => { err += d; });
	const url = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`lumen serve did not start in 60 s: ${err}`)), 60000);
		proc.stdout.on('data', (d) => {
			out += d;
			const m = out.match(/ at (http:\/\/\S+\/v1)\n/);
			if (m) {
				clearTimeout(timer);
				resolve(m[1]);
			}
		});
		proc.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`lumen serve exited with ${code}: ${err}`));
		});
	});
	const exited = once(proc, 'exit');
	return {
		url,
		base: url.replace(/\/v1$/, ''),
		proc,
		stderr: () => err,
		// SIGTERM: a clean stop, exit status 0 (and no leak under ASan)
		async stop() {
			proc.kill('SIGTERM');
			const [code, signal] = await exited;
			return { code, signal, stderr: err };
		},
	};
}

export async function health(base) {
	const r = await fetch(`${base}/health`);
	return r.json();
}

// poll /health until pred(h) holds (at most @ms)
export async function waitHealth(base, pred, ms = 20000) {
	const end = Date.now() + ms;
	let h;
	for (;;) {
		h = await health(base);
		if (pred(h) || Date.now() > end)
			return h;
		await new Promise((r) => setTimeout(r, 50));
	}
}

export function percentile(values, p) {
	const v = [...values].sort((a, b) => a - b);
	if (!v.length)
		return NaN;
	return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}
