/**
 * Memory per order under the checkout loop of the benchmark, for retention work (issue 6).
 *
 *   node dist/test/tools/memory-probe.js [--warmup 30] [--seconds 90] [--users 32] [--port 18480] [--heap-mb 256]
 *   node --expose-gc dist/test/tools/memory-probe.js --inprocess [--seconds 60] [--users 16] [--reads]
 *
 * Default: the embedded shop as a child process (as the benchmark runs it); RSS from /proc and the used heap from
 * /metrics are sampled every 5 s and reported after the warm-up and at the end, with kB per order between them.
 * `--inprocess`: the shop runs in this process so that, after the load, every collection can be counted and
 * then cleared one at a time with a full GC in between: how much heap each kind of record holds, per order.
 * Environment variables (retention settings) are passed to the shop in both modes.
 */
import { prepareShop, runCheckoutLoop } from "./bench-runners";
import { freePort, readMemory, startEmbeddedShop } from "./processes";
import { request } from "./http-client";
import { mb, numberArg, parseArgs, renderTable } from "./stats";

interface Sample {
	at: number;
	rssKb: number;
	heapKb: number;
	orders: number;
}

async function heapUsedKb(url: string): Promise<number> {
	try {
		const res = await request<string>(url, "GET", "/metrics");
		const m = /^process_memory_heap_size_used (\d+)/m.exec(String(res.body));
		return m ? Math.round(Number(m[1]) / 1024) : 0;
	} catch {
		return 0;
	}
}

function perOrder(from: Sample, to: Sample, field: "rssKb" | "heapKb"): string {
	const orders = to.orders - from.orders;
	return orders > 0 ? ((to[field] - from[field]) / orders).toFixed(2) : "-";
}

/** The child-process run: samples while `warmup` then `seconds` of checkouts run. */
async function childRun(args: Map<string, string>): Promise<void> {
	const warmup = numberArg(args, "warmup", 30);
	const seconds = numberArg(args, "seconds", 90);
	const users = numberArg(args, "users", 32);
	// --heap-mb caps V8's old space (--max-old-space-size): how much of the RSS is garbage V8 has not collected yet.
	const nodeArgs = args.has("heap-mb") ? [`--max-old-space-size=${numberArg(args, "heap-mb", 256)}`] : [];
	const shop = await startEmbeddedShop(await freePort(numberArg(args, "port", 18480)), { quiet: true, nodeArgs });
	try {
		const prepared = await prepareShop([shop.url], users);
		const started = Date.now();
		let orders = 0;
		const samples: Sample[] = [];
		const sample = async (): Promise<Sample> => {
			const s = { at: (Date.now() - started) / 1000, rssKb: readMemory(shop.child.pid)?.rssKb ?? 0, heapKb: await heapUsedKb(shop.url), orders };
			samples.push(s);
			process.stderr.write(`\r[probe] ${s.at.toFixed(0)} s, ${s.orders} orders, RSS ${mb(s.rssKb)} MB, heap ${mb(s.heapKb)} MB   `);
			return s;
		};
		const start = await sample();
		const timer = setInterval(() => void sample(), 5000);
		const loop = (durationSec: number) =>
			runCheckoutLoop({ urls: [shop.url], customers: prepared.customers, productIds: prepared.productIds, durationSec, warmupSec: 0 });
		orders += (await loop(warmup)).orderIds.length;
		const warm = await sample();
		orders += (await loop(seconds)).orderIds.length;
		clearInterval(timer);
		const end = await sample();
		const peakKb = readMemory(shop.child.pid)?.peakKb ?? 0;
		process.stderr.write("\n");
		const rows = [start, warm, end].map((s, i) => [["start", "after warm-up", "end"][i], s.at.toFixed(0), s.orders, mb(s.rssKb), mb(s.heapKb)]);
		process.stdout.write(`${renderTable(["point", "s", "orders", "RSS MB", "heap MB"], rows)}\n`);
		process.stdout.write(`peak RSS ${mb(peakKb)} MB; after warm-up: ${(end.orders - warm.orders)} orders, ` +
			`${perOrder(warm, end, "rssKb")} kB RSS and ${perOrder(warm, end, "heapKb")} kB heap per order; ` +
			`RSS growth ${(((end.rssKb - warm.rssKb) / warm.rssKb) * 100).toFixed(1)}%\n`);
		process.stdout.write(`RSS MB over time: ${samples.filter((_, i) => i % 3 === 0).map(s => `${s.at.toFixed(0)}s:${mb(s.rssKb)}`).join(" ")}\n`);
	} finally {
		await shop.stop();
	}
}

if (require.main === module) {
	const args = parseArgs(process.argv.slice(2));
	const run = args.has("inprocess") ? import("./memory-probe-inprocess").then(m => m.inProcessRun(args)) : childRun(args);
	run.then(
		() => process.exit(0),
		err => {
			process.stderr.write(`probe failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
			process.exit(1);
		},
	);
}
