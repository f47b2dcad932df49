import type { Context, Middleware, ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { NATS_URL, REDIS_URL, testConfig } from "../helpers/shop";
import { startCluster, type Cluster, type NodeSpec } from "../tools/cluster";

/**
 * Three ShopFlow processes over the real NATS (a catalog node and two `search` replicas, started from dist/ like
 * `npm run cluster` does) and a test broker in the same namespace that calls `search.status`, whose answer names
 * the node that ran it. A middleware on the test broker records where the balancer sent every attempt, retries
 * included.
 */
interface SearchStatus {
	node_id: string;
	ready: boolean;
	products: number;
}

interface Attempt {
	requestID: string;
	nodeID: string;
	at: number;
}

const namespace = `t-scale-${process.pid}-${Date.now()}`;
const replicaA = `search-a-${process.pid}`;
const replicaB = `search-b-${process.pid}`;
const clusterEnv = { DATA_DIR: "memory", LOG_LEVEL: "error", NODE_ENV: "test", SEED_DEMO_DATA: "true" };

function layout(names: string[]): NodeSpec[] {
	const all: NodeSpec[] = [
		{ name: "catalog", services: "products,inventory" },
		{ name: "search-a", services: "search" },
		{ name: "search-b", services: "search" },
	];
	return all.filter(n => names.includes(n.name));
}

function start(names: string[]): Promise<Cluster> {
	return startCluster({ namespace, natsUrl: NATS_URL, redisUrl: REDIS_URL, quiet: true, extraEnv: clusterEnv, layout: layout(names) });
}

/** Records the node each remote call attempt was sent to. */
function attemptRecorder(attempts: Attempt[]): Middleware {
	return {
		name: "AttemptRecorder",
		remoteAction(next: (ctx: Context) => Promise<unknown>) {
			return (ctx: Context) => {
				attempts.push({ requestID: ctx.requestID ?? ctx.id, nodeID: ctx.nodeID ?? "", at: Date.now() });
				return next(ctx);
			};
		},
	} as unknown as Middleware;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise(r => setTimeout(r, 200));
	}
}

describe("ShopFlow scaled out over NATS", () => {
	const attempts: Attempt[] = [];
	let cluster: Cluster;
	let restarted: Cluster | undefined;
	let caller: ServiceBroker;

	const searchNodes = () => caller.registry.getActionEndpoints("search.status")?.endpoints.filter(e => e.isAvailable).map(e => e.id).sort() ?? [];
	const status = () => caller.call<SearchStatus, Record<string, never>>("search.status", {});
	/** Asks one node directly (setup checks only: this bypasses the balancer). */
	const statusOn = (nodeID: string) => caller.call<SearchStatus, Record<string, never>>("search.status", {}, { nodeID });

	beforeAll(async () => {
		cluster = await start(["catalog", "search-a", "search-b"]);
		const config = testConfig({ NATS_URL, REDIS_URL, NAMESPACE: namespace, LOG_LEVEL: "error" });
		// Heartbeats are checked every 8 s instead of 15 s so that a killed node is noticed within the test's time.
		caller = createShopBroker({ config, services: [], broker: { nodeID: `caller-${process.pid}`, heartbeatTimeout: 8 } });
		caller.middlewares.add(attemptRecorder(attempts));
		await caller.start();
		await until("both search replicas", () => searchNodes().length === 2);
		for (const nodeID of [replicaA, replicaB])
			await until(`${nodeID} to load the catalog`, async () => (await statusOn(nodeID)).ready);
	}, 60_000);

	afterAll(async () => {
		await caller?.stop();
		await cluster?.stop();
		await restarted?.stop();
	});

	it("runs each replica in its own process with the whole catalog", async () => {
		expect(searchNodes()).toEqual([replicaA, replicaB].sort());
		const pids = cluster.nodes.map(n => n.child.pid);
		expect(new Set(pids).size).toBe(3);
		const a = await statusOn(replicaA);
		const b = await statusOn(replicaB);
		expect(a.products).toBeGreaterThan(0);
		expect(b.products).toBe(a.products);
	});

	it("balances calls across the two replicas", async () => {
		const answers = [];
		for (let i = 0; i < 20; i++) answers.push((await status()).node_id);
		const byNode = new Map<string, number>();
		for (const id of answers) byNode.set(id, (byNode.get(id) ?? 0) + 1);
		expect([...byNode.keys()].sort()).toEqual([replicaA, replicaB].sort());
		expect(byNode.get(replicaA)).toBeGreaterThanOrEqual(5);
		expect(byNode.get(replicaB)).toBeGreaterThanOrEqual(5);
	});

	it("completes every call in flight when one replica is killed, retrying on the other", async () => {
		attempts.length = 0;
		const results: Array<{ ok: boolean; node?: string; error?: string; startedAt: number }> = [];
		// A SIGKILLed process can still answer what it already read for a moment: the checks count from its exit.
		let deadAt = Infinity;
		let startedAfterKill = 0;
		const stopIssuingAt = Date.now() + 2_000;
		const deadline = Date.now() + 30_000;
		// Ten callers keep calls in flight; replica A is SIGKILLed half a second in. They go on for 2 s and until
		// 20 calls have started after its exit (on a busy machine the calls caught by the kill can take longer
		// than the 2 s to come back), or 30 s at most.
		const loops = Array.from({ length: 10 }, async () => {
			while ((Date.now() < stopIssuingAt || startedAfterKill < 20) && Date.now() < deadline) {
				const startedAt = Date.now();
				if (startedAt > deadAt) startedAfterKill++;
				try {
					results.push({ ok: true, node: (await status()).node_id, startedAt });
				} catch (err) {
					results.push({ ok: false, error: (err as Error).message, startedAt });
				}
			}
		});
		await new Promise(r => setTimeout(r, 500));
		const victim = cluster.nodes.find(n => n.name === "search-a");
		victim?.child.once("exit", () => (deadAt = Date.now()));
		victim?.child.kill("SIGKILL");
		await Promise.all(loops);
		expect(deadAt).toBeLessThan(Infinity);

		expect(results.filter(r => !r.ok)).toEqual([]);
		// The calls the kill caught (in flight on A, or sent to A before the caller noticed it was gone) were tried
		// again, and the last try of each was on B. They are told by having a later try, not by the clock: which
		// tries fall after the child's exit event depends on scheduling (the event was seen 77 ms after the ten
		// callers were all waiting on A in one run, and A's registry removal races the 10 s request timeout), which
		// made "attempts sent to A after its exit" come out empty once ("Expected > 0, Received 0").
		const triesOf = new Map<string, Attempt[]>();
		for (const a of attempts) triesOf.set(a.requestID, [...(triesOf.get(a.requestID) ?? []), a]);
		const caught = [...triesOf.values()].filter(tries => tries.slice(0, -1).some(t => t.nodeID === replicaA));
		expect(caught.length).toBeGreaterThan(0);
		expect(new Set(caught.map(tries => tries[tries.length - 1].nodeID))).toEqual(new Set([replicaB]));
		// ...and every call answered after the kill came from B.
		const afterKill = results.filter(r => r.startedAt > deadAt);
		expect(afterKill.length).toBeGreaterThanOrEqual(20);
		expect(new Set(afterKill.map(r => r.node))).toEqual(new Set([replicaB]));
		expect(searchNodes()).toEqual([replicaB]);
	}, 45_000);

	it("takes a restarted replica back into the rotation without manual steps", async () => {
		restarted = await start(["search-a"]);
		await until("the restarted replica", () => searchNodes().length === 2);
		await until("the restarted replica to load the catalog", async () =>
			(await statusOn(replicaA)).ready,
		);
		const answers = new Set<string>();
		for (let i = 0; i < 10; i++) answers.add((await status()).node_id);
		expect([...answers].sort()).toEqual([replicaA, replicaB].sort());
	}, 30_000);
});
