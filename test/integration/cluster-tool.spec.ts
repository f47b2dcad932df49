/**
 * `npm run cluster`'s nodes each serve their own metrics (issue 19 point 12): startCluster with a metrics base port
 * gives node i METRICS_PORT base + i, and a METRICS_PORT of the calling shell is not handed to every node.
 * Two nodes from dist/ over the real NATS.
 */
import { NATS_URL, REDIS_URL } from "../helpers/shop";
import { clusterLayout, deleteEventStream, startCluster, withMetricsPorts, type Cluster } from "../tools/cluster";
import { isPortFree } from "../tools/ports";

const namespace = `t-cluster-tool-${process.pid}-${Date.now()}`;

/** The first of `count` consecutive free ports from `from`. */
async function freeRun(from: number, count: number): Promise<number> {
	for (let base = from; base < from + 500; base++) {
		let free = true;
		for (let i = 0; i < count && free; i++) free = await isPortFree(base + i);
		if (free) return base;
	}
	throw new Error(`no ${count} consecutive free ports from ${from}`);
}

async function until<T>(what: string, read: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read().catch(() => null);
		if (value !== null) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise(r => setTimeout(r, 250));
	}
}

describe("npm run cluster's metrics ports", () => {
	let cluster: Cluster | undefined;
	const inherited = process.env.METRICS_PORT;

	afterAll(async () => {
		await cluster?.stop();
		await deleteEventStream(NATS_URL, namespace);
		if (inherited === undefined) delete process.env.METRICS_PORT;
		else process.env.METRICS_PORT = inherited;
	});

	it("numbers the layout's metrics ports from the base, one per node", () => {
		const ports = withMetricsPorts(clusterLayout(8080), 9180).map(n => n.metricsPort);
		expect(ports).toEqual([9180, 9181, 9182, 9183, 9184, 9185, 9186, 9187, 9188]);
		expect(withMetricsPorts(clusterLayout(8080), undefined).every(n => n.metricsPort === undefined)).toBe(true);
	});

	it("starts every node with its own METRICS_PORT serving GET /metrics and GET /health", async () => {
		const base = await freeRun(19270, 3);
		// Were it passed on, both nodes would ask for this port and one of them would stop.
		process.env.METRICS_PORT = String(base + 2);
		cluster = await startCluster({
			namespace,
			natsUrl: NATS_URL,
			redisUrl: REDIS_URL,
			quiet: true,
			metricsBasePort: base,
			extraEnv: { DATA_DIR: "memory", LOG_LEVEL: "error", NODE_ENV: "test" },
			layout: [
				{ name: "payments", services: "payments" },
				{ name: "notifications", services: "notifications" },
			],
		});
		for (const [i, name] of ["payments", "notifications"].entries()) {
			const health = await until(`${name}'s /health`, async () => {
				const res = await fetch(`http://127.0.0.1:${base + i}/health`);
				return res.ok ? ((await res.json()) as { node_id: string; transporter: string }) : null;
			});
			expect(health.node_id).toBe(`${name}-${process.pid}`);
			expect(health.transporter).toBe("ok");
			const metrics = await (await fetch(`http://127.0.0.1:${base + i}/metrics`)).text();
			expect(metrics).toContain("moleculer_node_");
		}
		expect(await isPortFree(base + 2)).toBe(true);
	}, 60_000);
});
