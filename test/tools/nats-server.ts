/**
 * A private nats-server with JetStream for the tools that stop NATS on purpose (the crash test's outages): never
 * the shared one. It keeps its store in one folder, so a stop and a start keep the streams and their consumers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { stopChild } from "./processes";

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export class PrivateNats {
	private child: ChildProcess | null = null;
	private lastOutput = "";

	constructor(
		readonly port: number,
		readonly storeDir: string,
	) {}

	get url(): string {
		return `nats://127.0.0.1:${this.port}`;
	}

	get running(): boolean {
		return this.child !== null;
	}

	/** Starts the server on its port and store folder; resolves once it accepts connections. */
	async start(): Promise<void> {
		if (this.child) return;
		if (!fs.existsSync(NATS_SERVER_BIN)) throw new Error(`${NATS_SERVER_BIN} is missing (set NATS_SERVER_BIN to a nats-server binary)`);
		const child = spawn(NATS_SERVER_BIN, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir], { stdio: ["ignore", "pipe", "pipe"] });
		const keep = (c: Buffer) => (this.lastOutput = (this.lastOutput + c.toString()).slice(-2000));
		child.stdout?.on("data", keep);
		child.stderr?.on("data", keep);
		child.once("exit", () => {
			if (this.child === child) this.child = null;
		});
		this.child = child;
		const deadline = Date.now() + 20_000;
		while (!(await accepts(this.port))) {
			if (this.child !== child) throw new Error(`nats-server on port ${this.port} exited at start:\n${this.lastOutput}`);
			if (Date.now() > deadline) throw new Error(`nats-server on port ${this.port} did not listen within 20 s:\n${this.lastOutput}`);
			await new Promise(r => setTimeout(r, 100));
		}
	}

	/** Stops the server (SIGTERM, SIGKILL after 5 s); its store stays. */
	async stop(): Promise<void> {
		const child = this.child;
		if (!child) return;
		await stopChild(child, 5000);
		this.child = null;
	}
}

function accepts(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect({ host: "127.0.0.1", port });
		socket.once("connect", () => {
			socket.destroy();
			resolve(true);
		});
		socket.once("error", () => resolve(false));
	});
}
