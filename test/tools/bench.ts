/**
 * `npm run bench`: measures ShopFlow on this machine and prints the machine, the ceiling (a bare moleculer-web
 * route), one table for embedded mode and one for the local cluster over NATS, and the targets of issue 6.
 *
 *   node dist/test/tools/bench.js [--duration 10] [--warmup 5] [--connections 32] [--users 32]
 *                                 [--only embedded|cluster] [--port 18080] [--soak 300] [--verbose] [--help]
 *
 * The options are in tool-options.ts; NAMESPACE prefixes the cluster run's namespace.
 */
import { deleteEventStream, projectRoot, startCluster } from "./cluster";
import { ensureBenchVoucher, prepareShop, runAutocannon, runCheckoutLoop, type BenchOptions, type RouteResult } from "./bench-runners";
import { describeMachine, evaluateTargets, renderBare, renderMode, renderTargets, type ModeResult, type NodeMemory } from "./bench-report";
import { request } from "./http-client";
import { freePort, readCpuMs, readMemory, startBareGateway, startEmbeddedShop, type RunningNode } from "./processes";
import { parseToolArgs } from "./args";
import { soakAndReport } from "./soak";
import { TOOL_OPTIONS } from "./tool-options";

function memoryOf(nodes: RunningNode[]): NodeMemory[] {
	return nodes.map(n => {
		const m = readMemory(n.child.pid);
		return { name: n.name, peakKb: m?.peakKb ?? 0, rssKb: m?.rssKb ?? 0 };
	});
}

/** The four routes of the table against one or more gateways. */
async function runRoutes(mode: ModeResult["mode"], urls: string[], nodes: RunningNode[], opts: BenchOptions): Promise<ModeResult> {
	const log = (s: string) => process.stderr.write(`[${mode}] ${s}\n`);
	const exits: string[] = [];
	let running = true;
	for (const n of nodes)
		n.child.once("exit", (code, signal) => {
			if (!running) return;
			exits.push(`${n.name} exited during the run (${signal ?? code})`);
			log(exits[exits.length - 1]);
		});
	log(`preparing: stock and ${Math.max(opts.connections, opts.users)} customers`);
	const shop = await prepareShop(urls, Math.max(opts.connections, opts.users));
	const routes: ModeResult["routes"] = [];
	const peak = () => Math.max(...memoryOf(nodes).map(n => n.peakKb));
	const cpuMs = () => nodes.reduce((sum, n) => sum + readCpuMs(n.child.pid), 0);
	const common = { urls, durationSec: opts.durationSec, connections: opts.connections, warmupSec: opts.warmupSec, cpuMs };

	log("GET /products");
	routes.push({ ...(await runAutocannon({ ...common, route: "GET /products", path: "/api/v1/products" })), peakKb: peak() });
	log("GET /search?q=laptop");
	routes.push({ ...(await runAutocannon({ ...common, route: "GET /search?q=laptop", path: "/api/v1/search?q=laptop" })), peakKb: peak() });
	log("POST /cart/add");
	const ids = shop.productIds;
	const cartAdd = await runAutocannon({
		...common,
		route: "POST /cart/add",
		path: "/api/v1/cart/add",
		method: "POST",
		customers: shop.customers,
		body: n => ({ product_id: ids[n % ids.length], quantity: 1 }),
	});
	routes.push({ ...cartAdd, peakKb: peak() });
	for (const c of shop.customers) await request(urls[0], "DELETE", "/api/v1/cart", { token: c.token });

	log(`POST /checkout (${opts.users} virtual users, cart/add then checkout)`);
	const checkout = await runCheckoutLoop({
		urls,
		customers: shop.customers.slice(0, opts.users),
		productIds: ids,
		durationSec: opts.durationSec,
		warmupSec: opts.warmupSec,
		cpuMs,
	});
	routes.push({ ...checkout, peakKb: peak() });

	log(`POST /checkout with a voucher (${opts.users} virtual users, cart/add, cart/voucher, then checkout)`);
	const withVoucher = await runCheckoutLoop({
		urls,
		customers: shop.customers.slice(0, opts.users),
		productIds: ids,
		durationSec: opts.durationSec,
		warmupSec: opts.warmupSec,
		cpuMs,
		voucher: await ensureBenchVoucher(urls[0], "BENCH10"),
	});
	routes.push({ ...withVoucher, peakKb: peak() });
	running = false;
	return { mode, routes, nodes: memoryOf(nodes), exits };
}

async function benchEmbedded(port: number, opts: BenchOptions): Promise<ModeResult> {
	const shop = await startEmbeddedShop(port, { quiet: opts.quiet });
	try {
		return await runRoutes("embedded", [shop.url], [shop], opts);
	} finally {
		await shop.stop();
	}
}

async function benchCluster(port: number, opts: BenchOptions): Promise<ModeResult> {
	const namespace = `${process.env.NAMESPACE || "bench"}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	const cluster = await startCluster({
		basePort: port,
		namespace,
		quiet: opts.quiet,
		extraEnv: { DATA_DIR: "memory", LOG_LEVEL: "warn", RATE_LIMIT_PER_MINUTE: "10000000" },
	});
	const tails = new Map<string, string>();
	for (const n of cluster.nodes)
		for (const stream of [n.child.stdout, n.child.stderr])
			stream?.on("data", (c: Buffer) => tails.set(n.name, ((tails.get(n.name) ?? "") + c.toString()).slice(-1500)));
	try {
		return await runRoutes("cluster", cluster.gateways, cluster.nodes, opts);
	} catch (err) {
		for (const [name, tail] of tails) process.stderr.write(`--- last output of ${name} ---\n${tail}\n`);
		throw err;
	} finally {
		await cluster.stop();
		// The run's namespace is never used again: its JetStream stream and consumers would only pile up on the server.
		await deleteEventStream(process.env.NATS_URL ?? "nats://127.0.0.1:4222", namespace).catch(err =>
			process.stderr.write(`could not delete the run's event stream: ${(err as Error).message}\n`),
		);
	}
}

async function benchBare(port: number, opts: BenchOptions): Promise<{ result: RouteResult; page: RouteResult; peakKb: number }> {
	const bare = await startBareGateway(port, opts.quiet);
	try {
		const route = (name: string, path: string) =>
			runAutocannon({
				route: name,
				urls: [bare.url],
				path,
				durationSec: opts.durationSec,
				connections: opts.connections,
				warmupSec: opts.warmupSec,
				cpuMs: () => readCpuMs(bare.child.pid),
			});
		const result = await route("GET /api/v1/ping (bare moleculer-web)", "/api/v1/ping");
		const page = await route("GET /api/v1/page (bare, constant 10 KB page)", "/api/v1/page");
		return { result, page, peakKb: readMemory(bare.child.pid)?.peakKb ?? 0 };
	} finally {
		await bare.stop();
	}
}

async function main(): Promise<void> {
	const args = parseToolArgs("bench", TOOL_OPTIONS.bench.summary, TOOL_OPTIONS.bench.spec);
	const opts: BenchOptions = {
		durationSec: args.duration,
		warmupSec: args.warmup,
		connections: args.connections,
		users: args.users,
		quiet: !args.verbose,
	};
	const only = args.only;
	const basePort = args.port;
	process.stdout.write(describeMachine(projectRoot()) + "\n");

	if (args.soak > 0) {
		process.stdout.write(`\n${await soakAndReport(basePort, args.soak, opts)}\n`);
		return;
	}

	process.stdout.write(`each route: ${opts.warmupSec} s warm-up, then ${opts.durationSec} s measured; ` +
		`${opts.connections} connections (autocannon), ${opts.users} virtual users for checkout\n` +
		"CPU ms/req: CPU time the shop's processes (all nodes) used per measured request; for checkout, per order (with its cart/add)\n\n");
	const bare = await benchBare(await freePort(basePort + 90), opts);
	process.stdout.write(`ceiling\n${renderBare([bare.result, bare.page], bare.peakKb)}\n\n`);
	let embedded: ModeResult | undefined;
	let cluster: ModeResult | undefined;
	if (only !== "cluster") {
		embedded = await benchEmbedded(await freePort(basePort), opts);
		process.stdout.write(renderMode(embedded, bare.result) + "\n\n");
	}
	if (only !== "embedded") {
		const port = await freePort(basePort + 10);
		cluster = await benchCluster(port, opts);
		process.stdout.write(renderMode(cluster, bare.result) + "\n\n");
	}
	process.stdout.write(`targets\n${renderTargets(evaluateTargets(bare.result, embedded, cluster))}\n`);
	process.stdout.write(`load average at the end ${(await import("node:os")).loadavg().map(l => l.toFixed(2)).join(" ")}\n`);
}

if (require.main === module)
	main().then(
		() => process.exit(0),
		err => {
			process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
			process.exit(1);
		},
	);
