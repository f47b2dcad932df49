/**
 * What the crash test kills: the embedded shop on NeDB files (one process, SIGKILLed and started again on the same
 * files), or the local cluster over a private NATS (`npm run cluster`'s layout, each node on its own NeDB folder,
 * Redis shared under the run's namespace) whose `orders` node is SIGKILLed and started again and whose NATS is
 * stopped for a few seconds and started again on the same JetStream store.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect } from "nats";
import { streamName } from "../../mixins/events/policy";
import { checkEventFiles } from "./crash-checks";
import { clusterLayout, spawnNode, startCluster, type Cluster, type ClusterOptions, type NodeSpec } from "./cluster";
import { waitForHttp } from "./http-client";
import { PrivateNats } from "./nats-server";
import { freePort, startEmbeddedShop, stopChild, type StartedProcess } from "./processes";

export interface CrashTarget {
	/** "the embedded shop" or "the orders node", for the report. */
	victim: string;
	/** The gateways; customer n uses bases[n % bases.length]. */
	bases: string[];
	/** False while the whole shop is down (embedded): the customers wait. */
	up: boolean;
	/** The folder holding every NeDB folder of the run. */
	root: string;
	/** SIGKILLs the victim at once and starts it again; resolves when it is back. */
	crash(): Promise<void>;
	/** Stops the private NATS for `seconds` and starts it again (cluster only). */
	outage(seconds: number): Promise<void>;
	/** Events still on their way: staged in documents, unsent in outboxes, claims running, unacknowledged on JetStream. */
	inFlight(): Promise<Record<string, number>>;
	/** Stops gracefully, starts once more and idles `idleMs` so that what a stop left staged is sent, stops again. */
	finish(idleMs: number): Promise<void>;
	/** The NeDB folders (one per node). */
	dataDirs(): string[];
	/** Stops what is still running and removes the files unless kept. */
	cleanup(keep: boolean): Promise<void>;
}

const SHOP_ENV = { NOTIFICATIONS_KEEP_PER_USER: "1000000", SEED_DEMO_DATA: "true" };

/** Sums checkEventFiles' counts over folders. */
export function eventFileCounts(dirs: string[]): { violations: string[]; counts: Record<string, number> } {
	const out = { violations: [] as string[], counts: {} as Record<string, number> };
	for (const dir of dirs) {
		if (!fs.existsSync(dir)) continue;
		const r = checkEventFiles(dir);
		out.violations.push(...r.violations.map(v => (dirs.length > 1 ? `${path.basename(dir)}/${v}` : v)));
		for (const [k, n] of Object.entries(r.counts)) out.counts[k] = (out.counts[k] ?? 0) + n;
	}
	return out;
}

export async function embeddedTarget(opts: { port: number; namespace: string }): Promise<CrashTarget> {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-crashtest-"));
	const port = await freePort(opts.port);
	const env = { ...SHOP_ENV, DATA_DIR: root, NAMESPACE: opts.namespace, NODE_ID: "crashtest-shop" };
	const start = () => startEmbeddedShop(port, { quiet: true, env });
	let shop: StartedProcess = await start();
	const target: CrashTarget = {
		victim: "the embedded shop",
		bases: [shop.url],
		up: true,
		root,
		async crash() {
			target.up = false;
			shop.child.kill("SIGKILL");
			await exited(shop.child);
			shop = await start();
			target.up = true;
		},
		outage: () => Promise.reject(new Error("the embedded shop has no NATS")),
		inFlight: async () => {
			const c = eventFileCounts([root]).counts;
			return { staged: c.staged, outbox_pending: c.outbox_pending, claims_processing: c.claims_processing };
		},
		async finish(idleMs) {
			await stopChild(shop.child);
			shop = await start();
			await sleep(idleMs);
			await stopChild(shop.child);
		},
		dataDirs: () => [root],
		async cleanup(keep) {
			await stopChild(shop.child);
			if (!keep) fs.rmSync(root, { recursive: true, force: true });
		},
	};
	return target;
}

export async function clusterTarget(opts: { port: number; natsPort: number; namespace: string; redisUrl: string; log: (s: string) => void }): Promise<CrashTarget> {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-crashtest-cluster-"));
	const nats = new PrivateNats(await freePort(opts.natsPort), path.join(root, "jetstream"));
	await nats.start();
	const gatewayPort = await freePort(opts.port);
	const metricsPort = await freePort(gatewayPort + 2);
	const layout: NodeSpec[] = clusterLayout(gatewayPort).map(n => (n.name === "orders" ? { ...n, metricsPort } : n));
	const clusterOpts: ClusterOptions = {
		basePort: gatewayPort,
		natsUrl: nats.url,
		redisUrl: opts.redisUrl,
		namespace: opts.namespace,
		dataDir: path.join(root, "nodes"),
		layout,
		quiet: true,
		logDir: root,
		extraEnv: { ...SHOP_ENV, LOG_LEVEL: "warn", RATE_LIMIT_PER_MINUTE: "10000000" },
	};
	const ordersReady = () => waitForHttp(`http://127.0.0.1:${metricsPort}`, "/health", 120_000);
	let cluster: Cluster;
	try {
		cluster = await startCluster(clusterOpts);
		await ordersReady().catch(async err => {
			await cluster.stop();
			throw err;
		});
	} catch (err) {
		await nats.stop();
		throw err;
	}
	const orders = () => cluster.nodes.find(n => n.name === "orders") as Cluster["nodes"][number];
	const target: CrashTarget = {
		victim: "the orders node",
		bases: cluster.gateways,
		up: true,
		root,
		async crash() {
			const node = orders();
			node.child.kill("SIGKILL");
			await exited(node.child);
			node.child = spawnNode(node, clusterOpts);
			await ordersReady();
		},
		async outage(seconds) {
			await nats.stop();
			await sleep(seconds * 1000);
			await nats.start();
		},
		async inFlight() {
			const counts = eventFileCounts(target.dataDirs()).counts;
			const js = await jetStreamBacklog(nats.url, opts.namespace).catch(err => {
				opts.log(`JetStream backlog not read: ${String(err)}`);
				return { unconsumed: -1, unacked: -1 };
			});
			return { staged: counts.staged, outbox_pending: counts.outbox_pending, claims_processing: counts.claims_processing, ...js };
		},
		async finish(idleMs) {
			await cluster.stop();
			cluster = await startCluster(clusterOpts);
			await ordersReady();
			await sleep(idleMs);
			await cluster.stop();
		},
		dataDirs: () => layout.map(n => path.join(root, "nodes", n.name)),
		async cleanup(keep) {
			await cluster.stop();
			await nats.stop();
			if (!keep) fs.rmSync(root, { recursive: true, force: true });
		},
	};
	return target;
}

/**
 * What the namespace's JetStream consumers have not finished: messages not yet delivered and deliveries not yet
 * acknowledged, summed over the stream's consumers.
 */
export async function jetStreamBacklog(natsUrl: string, namespace: string): Promise<{ unconsumed: number; unacked: number }> {
	const nc = await connect({ servers: natsUrl, timeout: 3000, reconnect: false });
	try {
		const jsm = await nc.jetstreamManager();
		let unconsumed = 0;
		let unacked = 0;
		for await (const ci of jsm.consumers.list(streamName(namespace))) {
			unconsumed += ci.num_pending;
			unacked += ci.num_ack_pending;
		}
		return { unconsumed, unacked };
	} finally {
		await nc.close();
	}
}

function exited(child: StartedProcess["child"]): Promise<void> {
	return new Promise(r => (child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r())));
}

function sleep(ms: number): Promise<void> {
	return new Promise(r => setTimeout(r, ms));
}
