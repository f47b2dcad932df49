/**
 * `npm run bench -- --soak 300`: a long load on the embedded shop (checkouts by virtual users plus catalog reads)
 * with the process's RSS sampled every few seconds; the growth is measured from the end of the warm-up
 * (the first fifth of the run, at most a minute) to the end. Also on its own (`npm run soak`):
 *
 *   node dist/test/tools/soak.js [--seconds 300] [--users 32] [--port 18080] [--verbose] [--help]
 *
 * The options are in tool-options.ts; the embedded shop inherits NAMESPACE.
 */
import { prepareShop, runAutocannon, runCheckoutLoop, type BenchOptions, type RouteResult } from "./bench-runners";
import { evaluateTargets, renderTargets } from "./bench-report";
import { parseToolArgs } from "./args";
import { freePort, readMemory, startEmbeddedShop } from "./processes";
import { mb, ms, renderTable } from "./stats";
import { TOOL_OPTIONS } from "./tool-options";

export interface SoakOutcome {
	report: string;
	/** RSS growth after the warm-up, percent. */
	growth: number;
}

/** Runs the soak and renders its report. */
export async function runSoak(port: number, seconds: number, opts: BenchOptions): Promise<SoakOutcome> {
	const shop = await startEmbeddedShop(port, { quiet: opts.quiet });
	try {
		const prepared = await prepareShop([shop.url], opts.users);
		const warmupSec = Math.min(60, seconds / 5);
		const samples: Array<{ at: number; rssKb: number }> = [];
		const started = Date.now();
		const timer = setInterval(() => {
			const m = readMemory(shop.child.pid);
			if (m) samples.push({ at: (Date.now() - started) / 1000, rssKb: m.rssKb });
			process.stderr.write(`\r[soak] ${((Date.now() - started) / 1000).toFixed(0)} s of ${seconds}, RSS ${m ? mb(m.rssKb) : "?"} MB   `);
		}, 5000);
		const [checkout, reads] = await Promise.all([
			runCheckoutLoop({ urls: [shop.url], customers: prepared.customers, productIds: prepared.productIds, durationSec: seconds, warmupSec: 0 }),
			runAutocannon({ route: "GET /products", urls: [shop.url], path: "/api/v1/products", durationSec: seconds, connections: 4 }),
		]);
		clearInterval(timer);
		process.stderr.write("\n");
		const final = readMemory(shop.child.pid);
		const baseline = samples.find(s => s.at >= warmupSec) ?? samples[0];
		const last = final?.rssKb ?? samples[samples.length - 1]?.rssKb ?? 0;
		const growth = baseline ? ((last - baseline.rssKb) / baseline.rssKb) * 100 : 0;
		const every = samples.filter((_, i) => i % 6 === 5).map(s => `${s.at.toFixed(0)}s:${mb(s.rssKb)}`);
		const table = renderTable(
			["route", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
			[checkout, reads].map(r => [r.route, Math.round(r.rps), ms(r.p50), ms(r.p95), ms(r.p99), r.non2xx + r.socketErrors]),
		);
		const report = [
			`soak: ${seconds} s on the embedded shop, ${opts.users} checkout users + 4 connections reading /products`,
			table,
			`orders placed: ${checkout.orderIds.length}`,
			`RSS MB over time: ${every.join(" ")}`,
			`RSS after the ${warmupSec.toFixed(0)} s warm-up ${baseline ? mb(baseline.rssKb) : "?"} MB, at the end ${mb(last)} MB, ` +
				`peak ${final ? mb(final.peakKb) : "?"} MB: growth ${growth.toFixed(1)}%`,
		].join("\n");
		return { report, growth };
	} finally {
		await shop.stop();
	}
}

/** The soak on the next free port from basePort, its report and the RSS growth target (bench --soak and soak). */
export async function soakAndReport(basePort: number, seconds: number, opts: BenchOptions): Promise<string> {
	const { report, growth } = await runSoak(await freePort(basePort), seconds, opts);
	return `${report}\n\n${renderTargets(evaluateTargets({ rps: 1 } as RouteResult, undefined, undefined, growth))}`;
}

async function main(): Promise<void> {
	const args = parseToolArgs("soak", TOOL_OPTIONS.soak.summary, TOOL_OPTIONS.soak.spec);
	// Connections and warm-up are not used by the soak (4 reading connections, its own warm-up).
	const opts = { durationSec: args.seconds, warmupSec: 0, connections: 4, users: args.users, quiet: !args.verbose };
	process.stdout.write(`${await soakAndReport(args.port, args.seconds, opts)}\n`);
}

if (require.main === module)
	main().then(
		() => process.exit(0),
		err => {
			process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
			process.exit(1);
		},
	);
