/**
 * The `--inprocess` mode of memory-probe: the embedded shop in this process (run node with --expose-gc), the
 * checkout loop against it, then each collection counted and cleared in turn with a full GC before and after, so
 * that the heap each kind of record holds is measured rather than guessed.
 */
import type { ServiceBroker } from "moleculer";
import { prepareShop, runAutocannon, runCheckoutLoop } from "./bench-runners";
import { freePort } from "./processes";
import { numberArg, renderTable } from "./stats";

interface Clearable {
	count(): Promise<number>;
	clear(): Promise<void>;
}

interface ProbedStore {
	outbox: Clearable;
	processed: Clearable;
	deadLetters: Clearable;
	counts(): Promise<{ processed: number }>;
	pruneProcessed(windowMs: number, limit: number, now?: number): Promise<number>;
}

interface ProbedService {
	name: string;
	$repositories?: Map<string, Clearable>;
	$events?: { store: ProbedStore };
}

/** The claims of a store, whether in its collection or (memory stores) in its map: pruned with a clock far ahead. */
function claimsOf(store: ProbedStore): Clearable {
	return {
		count: async () => (await store.counts()).processed,
		clear: async () => void (await store.pruneProcessed(0, Number.MAX_SAFE_INTEGER, Date.now() + 365 * 24 * 3600_000)),
	};
}

function gcHeapKb(): number {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error("run node with --expose-gc for --inprocess");
	gc();
	gc();
	return Math.round(process.memoryUsage().heapUsed / 1024);
}

/** Every collection of every local service, events collections first. */
function collections(broker: ServiceBroker): Array<[string, Clearable]> {
	const out: Array<[string, Clearable]> = [];
	const services = broker.services as unknown as ProbedService[];
	for (const s of services) {
		const store = s.$events?.store;
		if (store) out.push([`${s.name}.events_outbox`, store.outbox], [`${s.name}.claims`, claimsOf(store)], [`${s.name}.events_dead_letters`, store.deadLetters]);
	}
	for (const s of services) for (const [name, repo] of s.$repositories ?? []) out.push([`${s.name}.${name}`, repo]);
	return out;
}

async function startInProcess(port: number): Promise<{ broker: ServiceBroker; url: string }> {
	Object.assign(process.env, { NODE_ENV: "development", DATA_DIR: "memory", LOG_LEVEL: "warn", RATE_LIMIT_PER_MINUTE: "10000000", PORT: String(port) });
	for (const name of ["NATS_URL", "REDIS_URL", "MONGO_URL", "SERVICES"]) delete process.env[name];
	const { createShopBroker } = await import("../../config/boot/broker");
	const broker = createShopBroker();
	await broker.start();
	return { broker, url: `http://127.0.0.1:${port}` };
}

/** Runs the load in process and prints the heap held per collection, per order. */
export async function inProcessRun(args: Map<string, string>): Promise<void> {
	const seconds = numberArg(args, "seconds", 60);
	const users = numberArg(args, "users", 16);
	const { broker, url } = await startInProcess(await freePort(numberArg(args, "port", 18480)));
	try {
		const prepared = await prepareShop([url], users);
		const before = gcHeapKb();
		// --reads: GET /products on 4 connections alongside, as the soak does.
		const reads = args.has("reads") ? runAutocannon({ route: "GET /products", urls: [url], path: "/api/v1/products", durationSec: seconds, connections: 4 }) : null;
		const res = await runCheckoutLoop({ urls: [url], customers: prepared.customers, productIds: prepared.productIds, durationSec: seconds, warmupSec: 0 });
		await reads;
		// Let relays, consumers and notifications settle.
		await new Promise(r => setTimeout(r, 5000));
		const orders = res.orderIds.length;
		let heap = gcHeapKb();
		const total = heap - before;
		const rows: Array<Array<string | number>> = [];
		for (const [name, coll] of collections(broker)) {
			const n = await coll.count();
			if (n === 0) continue;
			await coll.clear();
			const after = gcHeapKb();
			rows.push([name, n, (n / Math.max(1, orders)).toFixed(1), heap - after, ((heap - after) / Math.max(1, orders)).toFixed(2)]);
			heap = after;
		}
		const rest = gcHeapKb() - before;
		process.stdout.write(`${orders} orders in ${seconds} s; heap after GC grew ${total} kB (${(total / Math.max(1, orders)).toFixed(2)} kB per order)\n`);
		process.stdout.write(`${renderTable(["collection", "docs", "per order", "heap kB", "kB per order"], rows)}\n`);
		process.stdout.write(`left once every collection was cleared: ${rest} kB (${(rest / Math.max(1, orders)).toFixed(2)} kB per order)\n`);
	} finally {
		await broker.stop();
	}
}
