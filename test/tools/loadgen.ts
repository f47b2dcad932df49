/**
 * `npm run loadgen`: virtual users running weighted shopping journeys against ShopFlow, with a live progress line,
 * an optional fault-injection behavior, a summary of the order outcomes, and the invariants of issue 5 checked at
 * the end (exit code 1 on any violation).
 *
 *   node dist/test/tools/loadgen.js [--users 20] [--duration 60] [--behavior "payment:error=0.1"]
 *        [--url http://127.0.0.1:8080[,http://127.0.0.1:8081]] [--think 100-1000] [--stock 2000] [--settle 60]
 *        [--port 18200] [--help]
 *
 * Without --url it starts an embedded shop of its own (on --port or the next free port; it inherits NAMESPACE).
 * The options are in tool-options.ts. It assumes nobody else buys while it runs (the stock check
 * compares on-hand units before and after).
 */
import { ensureStock, listProducts, loginAdmin, registerCustomers, request } from "./http-client";
import { LoadStats, virtualUser, type TaskName } from "./journeys";
import { checkInvariants, ordersOf, stockSnapshot, waitUntilSettled } from "./invariants";
import { freePort, startEmbeddedShop, type StartedProcess } from "./processes";
import { parseToolArgs } from "./args";
import { ms, renderTable } from "./stats";
import { parseThink, parseUrls, TOOL_OPTIONS } from "./tool-options";

interface LoadOptions {
	urls: string[] | null;
	users: number;
	durationSec: number;
	behavior: string | null;
	think: [number, number];
	stock: number;
	settleSec: number;
	port: number;
}

function parseOptions(argv: string[]): LoadOptions {
	const args = parseToolArgs("loadgen", TOOL_OPTIONS.loadgen.summary, TOOL_OPTIONS.loadgen.spec, argv);
	const think = parseThink(args.think);
	if (!think) throw new Error(`--think passed its check but cannot be read: "${args.think}"`);
	return {
		urls: args.url === "" ? null : parseUrls(args.url),
		users: args.users,
		durationSec: args.duration,
		behavior: args.behavior === "" ? null : args.behavior,
		think,
		stock: args.stock,
		settleSec: args.settle,
		port: args.port,
	};
}

/** A small seeded generator so that runs with the same seed pick the same journeys. */
function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function progressLine(stats: LoadStats, startedAt: number, durationSec: number): string {
	const elapsed = (Date.now() - startedAt) / 1000;
	const orders = Object.entries(stats.ordersByStatus()).map(([s, n]) => `${s} ${n}`).join(", ") || "none";
	return `${Math.min(elapsed, durationSec).toFixed(0).padStart(4)}/${durationSec} s  requests ${stats.requests}  ` +
		`${(stats.requests / Math.max(elapsed, 0.001)).toFixed(1)} req/s  errors ${stats.errors}  4xx ${stats.clientErrors}  orders: ${orders}`;
}

async function main(): Promise<number> {
	const opts = parseOptions(process.argv.slice(2));
	let shop: StartedProcess | null = null;
	if (!opts.urls) {
		const port = await freePort(opts.port);
		process.stdout.write(`starting an embedded shop on port ${port}...\n`);
		shop = await startEmbeddedShop(port, { quiet: true });
		opts.urls = [shop.url];
	}
	const urls = opts.urls;
	try {
		const headers: Record<string, string> = opts.behavior ? { "x-behavior": opts.behavior } : {};
		if (opts.behavior) {
			const probe = await request(urls[0], "GET", "/api/v1/products?page_size=1", { headers });
			if (probe.status === 400) throw new Error(`the gateway refused the behavior: ${JSON.stringify(probe.body)}`);
		}
		const admin = await loginAdmin(urls[0]);
		const productIds = (await listProducts(urls[0])).map(p => p.id);
		if (productIds.length === 0) throw new Error("the catalog is empty");
		if (opts.stock > 0) for (const id of productIds) await ensureStock(urls[0], admin, id, opts.stock);
		process.stdout.write(`registering ${opts.users} customers over ${urls.join(", ")}...\n`);
		const customers = await registerCustomers(urls, opts.users, "loadgen");
		const before = await stockSnapshot(urls[0], admin, productIds);

		const stats = new LoadStats();
		const startedAt = Date.now();
		const deadline = startedAt + opts.durationSec * 1000;
		const tty = process.stdout.isTTY === true;
		let lastPrinted = 0;
		const ticker = setInterval(() => {
			if (tty) process.stdout.write(`\r${progressLine(stats, startedAt, opts.durationSec)}\x1b[K`);
			else if (Date.now() - lastPrinted >= 5000) {
				lastPrinted = Date.now();
				process.stdout.write(progressLine(stats, startedAt, opts.durationSec) + "\n");
			}
		}, 1000);
		const random = mulberry32(Number(process.env.LOADGEN_SEED ?? Date.now()));
		await Promise.all(
			customers.map((user, i) =>
				virtualUser({ base: urls[i % urls.length], user, productIds, headers, stats, random }, deadline, opts.think),
			),
		);
		clearInterval(ticker);
		process.stdout.write(`${tty ? "\r" : ""}${progressLine(stats, startedAt, opts.durationSec)}${tty ? "\x1b[K" : ""}\n\n`);

		process.stdout.write(renderTasks(stats) + "\n\n");
		process.stdout.write(`waiting up to ${opts.settleSec} s for every order to settle...\n`);
		const known = await ordersOf(urls[0], customers);
		const acceptedIds = stats.orders.map(o => o.id);
		const ids = [...new Set([...known.keys(), ...acceptedIds])];
		const settled = await waitUntilSettled(urls[0], admin, ids, opts.settleSec * 1000);
		const after = await stockSnapshot(urls[0], admin, productIds);
		const violations = await checkInvariants({ base: urls[0], adminToken: admin, orders: settled, acceptedIds, before, after });

		process.stdout.write(renderOutcomes(settled, stats) + "\n\n");
		if (violations.length === 0) {
			process.stdout.write(`invariants: all hold (${settled.size} orders settled and charged correctly, stock of ${productIds.length} products balances)\n`);
			return 0;
		}
		process.stdout.write(`invariants: ${violations.length} violation(s)\n${violations.slice(0, 50).map(v => `  - ${v}`).join("\n")}\n`);
		if (violations.length > 50) process.stdout.write(`  ... and ${violations.length - 50} more\n`);
		return 1;
	} finally {
		await shop?.stop();
	}
}

function renderTasks(stats: LoadStats): string {
	const order: TaskName[] = ["browse", "search", "viewCart", "addToCart", "checkout"];
	const rows = order
		.filter(t => stats.tasks.has(t))
		.map(t => {
			const s = stats.tasks.get(t)!;
			return [t, s.count, s.errors, s.clientErrors, ms(s.latency.percentile(50)), ms(s.latency.percentile(95)), ms(s.latency.percentile(99))];
		});
	const samples = [...stats.errorSamples].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `  ${k} x${n}`);
	return [renderTable(["journey", "requests", "5xx/net", "4xx", "p50 ms", "p95 ms", "p99 ms"], rows), ...(samples.length ? ["errors:", ...samples] : [])].join("\n");
}

function renderOutcomes(orders: Map<string, { status: string; failure_reason: string | null }>, stats: LoadStats): string {
	const counts = new Map<string, number>();
	for (const o of orders.values()) {
		const key = o.failure_reason ? `${o.status} (${o.failure_reason})` : o.status;
		counts.set(key, (counts.get(key) ?? 0) + 1);
	}
	const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, n]);
	return [
		`orders: ${orders.size} (checkouts that answered without an order: ${stats.checkoutsWithoutOrder})`,
		renderTable(["final status", "orders"], rows),
	].join("\n");
}

if (require.main === module)
	main().then(
		code => process.exit(code),
		err => {
			process.stderr.write(`\nloadgen failed: ${err instanceof Error ? err.message : String(err)}\n`);
			process.exit(2);
		},
	);
