/**
 * `npm run cluster`: a local ShopFlow cluster of separate Node processes over NATS with Redis.
 * Two gateway nodes on their own ports, two nodes sharing the stateless services, one node per stateful group;
 * every node serves its own metrics on a METRICS_PORT. Ctrl-C stops them all.
 *
 *   node dist/test/tools/cluster.js [--port 8080] [--metrics-port 9180] [--help]
 *
 * The options are in tool-options.ts; NAMESPACE, NATS_URL and REDIS_URL come from the environment.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { connect } from "nats";
import { streamName } from "../../mixins/events/policy";
import { parseToolArgs } from "./args";
import { isPortFree } from "./ports";
import { TOOL_OPTIONS } from "./tool-options";

/**
 * glibc malloc settings for every process these tools start, as the Dockerfile sets them. Password hashing
 * (scrypt) takes 16 MB blocks on the libuv threads; with glibc's adaptive threshold the freed blocks stay in
 * the threads' arenas, about 60 MB of RSS that is never used again. A fixed mmap threshold gives them back;
 * a fixed threshold also fixes the trim threshold at 128 kB, which cost 15% more CPU per request in the
 * cluster (memory handed back and asked for again), so trimming starts at 64 MB of free memory instead.
 */
export function mallocEnv(): Record<string, string> {
	return {
		MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? "131072",
		MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? "67108864",
	};
}

/** The repository root, from the TypeScript source or from dist/. */
export function projectRoot(): string {
	let dir = __dirname;
	while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
	return dir;
}

export interface NodeSpec {
	name: string;
	services: string;
	port?: number;
	/** The node's METRICS_PORT (GET /metrics and GET /health); none when absent. */
	metricsPort?: number;
}

/**
 * The node layout; stateful groups run once on the embedded store (replicate them only with MONGO_URL). Checkout is
 * one of them: its cart and Idempotency-Key claims are its own collection, so two checkout nodes on their own NeDB
 * files would each claim the same cart, and a customer's repeat landing on the other node would place a second order.
 */
export function clusterLayout(basePort: number): NodeSpec[] {
	return [
		{ name: "gateway-1", services: "api", port: basePort },
		{ name: "gateway-2", services: "api", port: basePort + 1 },
		{ name: "stateless-1", services: "cart,search" },
		{ name: "stateless-2", services: "cart,search" },
		{ name: "checkout", services: "checkout" },
		{ name: "accounts", services: "users,notifications,settings,audit" },
		{ name: "catalog", services: "products,inventory,reviews,shops" },
		{ name: "orders", services: "orders,shipping,vouchers,ledger" },
		{ name: "payments", services: "payments" },
	];
}

export interface Cluster {
	nodes: Array<NodeSpec & { child: ChildProcess }>;
	gateways: string[];
	stop(): Promise<void>;
}

export interface ClusterOptions {
	basePort?: number;
	natsUrl?: string;
	redisUrl?: string;
	namespace?: string;
	dataDir?: string;
	extraEnv?: Record<string, string>;
	layout?: NodeSpec[];
	quiet?: boolean;
	/** Gives node i of the layout METRICS_PORT metricsBasePort + i (unless its spec names one). */
	metricsBasePort?: number;
	/** A folder where each node's output is appended to `<name>.log` (also when quiet). */
	logDir?: string;
}

/** Starts one node of a cluster as a child process (startCluster's nodes, and a node started again after a kill). */
export function spawnNode(spec: NodeSpec, opts: ClusterOptions): ChildProcess {
	const root = projectRoot();
	const entry = path.join(root, "dist", "config", "boot", "start.js");
	if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
	const dataDir = opts.dataDir ?? path.join(root, "data", "cluster");
	const child = spawn(process.execPath, ["--enable-source-maps", entry], {
		cwd: root,
		env: {
			...process.env,
			...mallocEnv(),
			NODE_ENV: process.env.NODE_ENV === "production" ? "production" : "development",
			SERVICES: spec.services,
			NODE_ID: `${spec.name}-${process.pid}`,
			PORT: String(spec.port ?? 0),
			NATS_URL: opts.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
			REDIS_URL: opts.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
			NAMESPACE: opts.namespace ?? process.env.NAMESPACE ?? "shopflow-cluster",
			// Each node its own folder: two processes must never open the same NeDB files.
			DATA_DIR: path.join(dataDir, spec.name),
			// An inherited METRICS_PORT would be the same for every node: each gets its own or none.
			METRICS_PORT: spec.metricsPort === undefined ? undefined : String(spec.metricsPort),
			...opts.extraEnv,
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	const prefix = `[${spec.name}] `;
	const logFile = opts.logDir ? fs.createWriteStream(path.join(opts.logDir, `${spec.name}.log`), { flags: "a" }) : null;
	logFile?.on("error", () => undefined);
	// "close" comes after the last output (the pipes are closed), unlike "exit".
	if (logFile) child.once("close", (code, signal) => logFile.end(`--- ${new Date().toISOString()} pid ${child.pid} exited (${signal ?? code})\n`));
	const forward = (chunk: Buffer, out: NodeJS.WriteStream) => {
		logFile?.write(chunk);
		if (opts.quiet) return;
		for (const line of chunk.toString().split("\n")) if (line.trim()) out.write(prefix + line + "\n");
	};
	child.stdout?.on("data", c => forward(c, process.stdout));
	child.stderr?.on("data", c => forward(c, process.stderr));
	return child;
}

/** Starts every node of the layout as a child process and resolves when each gateway answers /health/ready. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
	const basePort = opts.basePort ?? 8080;
	const layout = withMetricsPorts(opts.layout ?? clusterLayout(basePort), opts.metricsBasePort);
	const nodes = layout.map(spec => ({ ...spec, child: spawnNode(spec, opts) }));
	const gateways = layout.filter(n => n.port).map(n => `http://127.0.0.1:${n.port}`);
	const stop = async () => {
		await Promise.all(
			nodes.map(
				n =>
					new Promise<void>(resolve => {
						if (n.child.exitCode !== null || n.child.signalCode !== null) return resolve();
						const t = setTimeout(() => n.child.kill("SIGKILL"), 10_000);
						n.child.once("exit", () => {
							clearTimeout(t);
							resolve();
						});
						n.child.kill("SIGTERM");
					}),
			),
		);
	};
	const deadline = Date.now() + 60_000;
	for (const g of gateways) {
		for (;;) {
			try {
				const res = await fetch(`${g}/health/ready`);
				if (res.ok) break;
			} catch {
				/* not listening yet */
			}
			if (Date.now() > deadline) {
				await stop();
				throw new Error(`${g} did not become ready within 60 s`);
			}
			await new Promise(r => setTimeout(r, 250));
		}
	}
	return { nodes, gateways, stop };
}

/** The layout with METRICS_PORT base + i for node i (nodes that name their own keep it); unchanged without a base. */
export function withMetricsPorts(layout: NodeSpec[], base: number | undefined): NodeSpec[] {
	if (base === undefined) return layout;
	return layout.map((spec, i) => ({ ...spec, metricsPort: spec.metricsPort ?? base + i }));
}

/** Deletes a namespace's event stream (with its consumers) from JetStream; nothing when there is none. */
export async function deleteEventStream(natsUrl: string, namespace: string): Promise<void> {
	const nc = await connect({ servers: natsUrl, timeout: 5000 });
	try {
		const jsm = await nc.jetstreamManager();
		await jsm.streams.delete(streamName(namespace)).catch((err: { api_error?: { err_code?: number } }) => {
			if (err.api_error?.err_code !== 10059) throw err; // 10059: stream not found
		});
	} finally {
		await nc.close();
	}
}

async function main(): Promise<void> {
	const args = parseToolArgs("cluster", TOOL_OPTIONS.cluster.summary, TOOL_OPTIONS.cluster.spec);
	const layout = withMetricsPorts(clusterLayout(args.port), args["metrics-port"] || undefined);
	for (const spec of layout)
		for (const [port, what, option] of [[spec.port, "gateway", "--port"], [spec.metricsPort, "METRICS_PORT", "--metrics-port"]] as const)
			if (port !== undefined && !(await isPortFree(port))) throw new Error(`port ${port} (${what} of ${spec.name}) is in use: pick others with ${option}`);
	const cluster = await startCluster({ basePort: args.port, layout });
	process.stdout.write(`\nShopFlow cluster is up (namespace ${process.env.NAMESPACE ?? "shopflow-cluster"}):\n`);
	for (const n of cluster.nodes) {
		const where = n.port ? `http://127.0.0.1:${n.port}/api/v1` : "no HTTP port";
		const metrics = n.metricsPort ? `metrics http://127.0.0.1:${n.metricsPort}/metrics` : "";
		process.stdout.write(`  ${n.name.padEnd(12)} pid ${String(n.child.pid).padEnd(8)} ${n.services.padEnd(28)} ${where.padEnd(30)} ${metrics}\n`.trimEnd() + "\n");
	}
	const targets = cluster.nodes.filter(n => n.metricsPort).map(n => `"127.0.0.1:${n.metricsPort}"`);
	if (targets.length > 0) process.stdout.write(`Prometheus scrape targets (every node counts what it does itself): [${targets.join(", ")}]\n`);
	process.stdout.write("Press Ctrl-C to stop every node.\n\n");
	let stopping = false;
	const shutdown = async () => {
		if (stopping) return;
		stopping = true;
		process.stdout.write("\nStopping the cluster...\n");
		await cluster.stop();
		process.exit(0);
	};
	process.on("SIGINT", () => void shutdown());
	process.on("SIGTERM", () => void shutdown());
	for (const n of cluster.nodes)
		n.child.once("exit", (code, signal) => {
			if (!stopping) process.stderr.write(`[${n.name}] exited (${signal ?? code}); the others keep running\n`);
		});
}

if (require.main === module)
	main().catch(err => {
		process.stderr.write(`cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
		process.exit(1);
	});
