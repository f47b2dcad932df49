/**
 * Child processes for the benchmark and the load generator: the embedded shop, the bare gateway, and the
 * memory of a process read from /proc/<pid>/status.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { mallocEnv, projectRoot } from "./cluster";
import { waitForHttp } from "./http-client";

export interface RunningNode {
	name: string;
	child: ChildProcess;
	url?: string;
}

export interface StartedProcess extends RunningNode {
	url: string;
	stop(): Promise<void>;
}

/** Stops a child with SIGTERM, then SIGKILL after the grace period. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
	return new Promise(resolve => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve();
		const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
		child.once("exit", () => {
			clearTimeout(t);
			resolve();
		});
		child.kill("SIGTERM");
	});
}

/** Starts `node <script>` from dist/ with the given environment and waits until GET readyPath answers 200. */
export async function startNodeProcess(opts: {
	name: string;
	script: string;
	port: number;
	env: Record<string, string>;
	readyPath: string;
	quiet?: boolean;
	nodeArgs?: string[];
}): Promise<StartedProcess> {
	const entry = path.join(projectRoot(), "dist", opts.script);
	if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
	const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), entry], {
		cwd: projectRoot(),
		env: { ...process.env, ...mallocEnv(), ...opts.env, PORT: String(opts.port) },
		stdio: ["ignore", "pipe", "pipe"],
	});
	const prefix = `[${opts.name}] `;
	let lastOutput = "";
	const forward = (chunk: Buffer, out: NodeJS.WriteStream) => {
		lastOutput = (lastOutput + chunk.toString()).slice(-2000);
		if (opts.quiet) return;
		for (const line of chunk.toString().split("\n")) if (line.trim()) out.write(prefix + line + "\n");
	};
	child.stdout?.on("data", (c: Buffer) => forward(c, process.stdout));
	child.stderr?.on("data", (c: Buffer) => forward(c, process.stderr));
	const url = `http://127.0.0.1:${opts.port}`;
	const exited = new Promise<never>((_, reject) =>
		child.once("exit", (code, signal) => reject(new Error(`${opts.name} exited (${signal ?? code}) before it was ready:\n${lastOutput}`))),
	);
	try {
		await Promise.race([waitForHttp(url, opts.readyPath, 90_000), exited]);
	} catch (err) {
		await stopChild(child, 1000);
		throw err;
	}
	exited.catch(() => undefined);
	return { name: opts.name, child, url, stop: () => stopChild(child) };
}

/** The whole shop in one process (embedded mode: no transporter, memory store, demo catalog). */
export function startEmbeddedShop(port: number, opts: { quiet?: boolean; env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<StartedProcess> {
	return startNodeProcess({
		name: "embedded",
		script: path.join("config", "boot", "start.js"),
		port,
		readyPath: "/health/ready",
		quiet: opts.quiet,
		nodeArgs: opts.nodeArgs,
		env: {
			NODE_ENV: "development",
			DATA_DIR: "memory",
			LOG_LEVEL: "warn",
			RATE_LIMIT_PER_MINUTE: "10000000",
			NATS_URL: "",
			REDIS_URL: "",
			MONGO_URL: "",
			SERVICES: process.env.SERVICES ?? "",
			NODE_ID: `embedded-${process.pid}`,
			...opts.env,
		},
	});
}

/** The bare moleculer-web gateway of bare-gateway.ts (the ceiling). */
export function startBareGateway(port: number, quiet = true): Promise<StartedProcess> {
	return startNodeProcess({
		name: "bare",
		script: path.join("test", "tools", "bare-gateway.js"),
		port,
		readyPath: "/api/v1/ping",
		quiet,
		env: {},
	});
}

export interface Memory {
	/** Resident set size now, kB. */
	rssKb: number;
	/** Peak resident set size since the process started (VmHWM), kB. */
	peakKb: number;
}

/** The memory of a process from /proc/<pid>/status, or null when it is gone. */
export function readMemory(pid: number | undefined): Memory | null {
	if (!pid) return null;
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
		const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
		return { rssKb: field("VmRSS"), peakKb: field("VmHWM") };
	} catch {
		return null;
	}
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat; 0 when it is gone. */
export function readCpuMs(pid: number | undefined): number {
	if (!pid) return 0;
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
		// Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
	} catch {
		return 0;
	}
}

/** Linux reports CPU times in clock ticks of 1/100 s on every common platform. */
const CLOCK_TICKS = 100;

/** A free TCP port starting from a base (tries a listen on each). */
export async function freePort(base: number): Promise<number> {
	const net = await import("node:net");
	for (let port = base; port < base + 1000; port++) {
		const free = await new Promise<boolean>(resolve => {
			const srv = net.createServer();
			srv.once("error", () => resolve(false));
			srv.listen(port, "0.0.0.0", () => srv.close(() => resolve(true)));
		});
		if (free) return port;
	}
	throw new Error(`no free port in ${base}..${base + 999}`);
}
