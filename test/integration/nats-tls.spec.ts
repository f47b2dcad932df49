/**
 * A secured transporter: a private nats-server that requires TLS and a user and password, with certificates made by
 * this test (a CA and a server certificate for 127.0.0.1 and localhost, by the openssl CLI). A ShopFlow node with the
 * credentials and the CA joins and calls another node's action across it (and a second server wanting a token lets in
 * a node with the token); a node without the credentials, or without
 * TLS, cannot join; the password appears in no log line and in no health answer.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { natsConnectOptions } from "../../config/nats-options";
import { loadConfig, type Config } from "../../config/env";
import { acquireBus, checkNatsReachable } from "../../mixins/events/buses/connections";
import { freePort, stopChild } from "../tools/processes";
import { NATS_SERVER_BIN } from "../tools/nats-server";
import { http } from "../helpers/shop";

const USER = "shopflow-node";
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;

/** A CA, and a server certificate it signed for 127.0.0.1 and localhost, in `dir`. */
function makeCertificates(dir: string): void {
	const ssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
	ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ShopFlow test CA", "-keyout", "ca-key.pem", "-out", "ca.pem");
	ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server-key.pem", "-out", "server.csr");
	fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
	ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.pem");
}

async function waitListening(port: number, child: ChildProcess, output: () => string): Promise<void> {
	const net = await import("node:net");
	const deadline = Date.now() + 15_000;
	for (;;) {
		const ok = await new Promise<boolean>(resolve => {
			const s = net.connect({ host: "127.0.0.1", port });
			s.once("connect", () => (s.destroy(), resolve(true)));
			s.once("error", () => resolve(false));
		});
		if (ok) return;
		if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server did not start:\n${output()}`);
		await new Promise(r => setTimeout(r, 100));
	}
}

describe("NATS over TLS with credentials", () => {
	let dir: string;
	let nats: ChildProcess;
	let port: number;
	const brokers: ServiceBroker[] = [];
	const logged: string[] = [];
	let restore: Array<() => void> = [];
	const namespace = `t-tls-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;

	const config = (env: Record<string, string>): Config =>
		loadConfig({ NODE_ENV: "test", PORT: "0", LOG_LEVEL: "debug", NAMESPACE: namespace, CONNECT_TIMEOUT_MS: "1500", ...env });
	const secured = (): Record<string, string> => ({
		NATS_URL: `tls://127.0.0.1:${port}`,
		NATS_USER: USER,
		NATS_PASSWORD: PASSWORD,
		NATS_TLS_CA_FILE: path.join(dir, "ca.pem"),
	});

	/** A broker with one echo service (and the gateway when asked), not yet started. */
	function node(env: Record<string, string>, nodeID: string, withApi = false): ServiceBroker {
		const broker = createShopBroker({ config: config(env), services: withApi ? ["api"] : [], broker: { nodeID: `${nodeID}-${namespace}` } });
		broker.createService({ name: `echo-${nodeID}`, actions: { hello: (ctx: { nodeID: string | null }) => `hello from ${nodeID} (asked by ${ctx.nodeID})` } });
		brokers.push(broker);
		return broker;
	}

	beforeAll(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-nats-tls-"));
		makeCertificates(dir);
		port = await freePort(14_000 + Math.floor(Math.random() * 20_000));
		fs.writeFileSync(
			path.join(dir, "nats.conf"),
			[
				`listen: "127.0.0.1:${port}"`,
				`tls { cert_file: "${path.join(dir, "server.pem")}", key_file: "${path.join(dir, "server-key.pem")}", timeout: 2 }`,
				`authorization { user: "${USER}", password: "${PASSWORD}" }`,
				`jetstream { store_dir: "${path.join(dir, "js")}" }`,
			].join("\n"),
		);
		let out = "";
		nats = spawn(NATS_SERVER_BIN, ["-c", path.join(dir, "nats.conf")], { stdio: ["ignore", "pipe", "pipe"] });
		nats.stdout?.on("data", (c: Buffer) => (out += c.toString()));
		nats.stderr?.on("data", (c: Buffer) => (out += c.toString()));
		await waitListening(port, nats, () => out);

		// Every log line of the nodes below (Moleculer's console logger and anything written to stdout/stderr).
		const capture = (target: { write: (...a: never[]) => boolean }): void => {
			const original = target.write.bind(target);
			target.write = ((chunk: unknown, ...rest: never[]) => {
				logged.push(String(chunk));
				return original(chunk as never, ...rest);
			}) as typeof target.write;
			restore.push(() => (target.write = original));
		};
		capture(process.stdout as never);
		capture(process.stderr as never);
		for (const level of ["log", "info", "warn", "error", "debug"] as const) {
			const spy = jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(a => (typeof a === "string" ? a : JSON.stringify(a) ?? String(a))).join(" ")));
			restore.push(() => spy.mockRestore());
		}
	}, 60_000);

	afterAll(async () => {
		for (const b of brokers) await b.stop().catch(() => undefined);
		for (const r of restore) r();
		restore = [];
		if (nats) await stopChild(nats, 5000);
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it("lets a node with the credentials and the CA join and call another node's action", async () => {
		const a = node(secured(), "a", true);
		const b = node(secured(), "b");
		await a.start();
		await b.start();
		await b.waitForServices(["echo-a"], 10_000);
		await a.waitForServices(["echo-b"], 10_000);
		expect(await b.call("echo-a.hello")).toBe(`hello from a (asked by b-${namespace})`);
		expect(await a.call("echo-b.hello")).toMatch(/^hello from b/);

		// The durable events' JetStream connection uses the same options: it opens (and publishes) over TLS.
		const { bus, release } = await acquireBus(a, config(secured()));
		expect(bus).toBeDefined();
		await release();

		// The start check passes with the same options; the health answer says "ok" and shows no address or secret.
		await expect(checkNatsReachable(secured().NATS_URL, 3000, natsConnectOptions(secured().NATS_URL, config(secured())))).resolves.toBeUndefined();
		const api = a.getLocalService("api") as unknown as { server: import("node:http").Server };
		const base = `http://127.0.0.1:${(api.server.address() as import("node:net").AddressInfo).port}`;
		for (const route of ["/health/live", "/health/ready"]) {
			const res = await http(base, "GET", route);
			expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
			expect(JSON.stringify(res.body)).not.toContain(USER);
		}
	}, 60_000);

	it("keeps out a node without the credentials, and one without TLS", async () => {
		const noCredentials = { ...secured(), NATS_USER: "", NATS_PASSWORD: "" };
		const wrongPassword = { ...secured(), NATS_PASSWORD: "not-the-password" };
		const noTls = { NATS_URL: `nats://127.0.0.1:${port}`, NATS_USER: USER, NATS_PASSWORD: PASSWORD };
		// What `npm start` checks first: it stops with a line naming NATS_URL (without the password).
		for (const env of [noCredentials, wrongPassword, noTls] as Array<Record<string, string>>) {
			const err = await checkNatsReachable(env.NATS_URL, 1500, natsConnectOptions(env.NATS_URL, config(env))).then(
				() => null,
				(e: Error) => e,
			);
			expect(err?.message).toMatch(/^NATS_URL: cannot reach NATS at/);
			expect(err?.message).not.toContain(PASSWORD);
		}
		// And the transporter of a ShopFlow node built from these settings is refused by the server: it cannot join.
		for (const [env, why] of [
			[noCredentials, /authori[sz]ation/i],
			[wrongPassword, /authori[sz]ation/i],
			// nats.js would upgrade to TLS at the server's request, but without the CA it cannot trust the server.
			[noTls, /certificate|tls/i],
		] as Array<[Record<string, string>, RegExp]>) {
			const outsider = node(env, `x${Math.random().toString(36).slice(2, 6)}`);
			const transporter = (outsider.transit as unknown as { tx: { connect(): Promise<void> } }).tx;
			const refused = await transporter.connect().then(
				() => null,
				(e: Error) => e,
			);
			expect(refused?.message).toMatch(why);
		}
		const insider = brokers[0];
		expect(insider.registry.getNodeList({ onlyAvailable: true, withServices: false }).map(n => n.id).sort()).toEqual([`a-${namespace}`, `b-${namespace}`].sort());
	}, 60_000);

	it("lets a node in with a token where the server wants one, and keeps out one without it", async () => {
		const token = `tok-${Math.random().toString(36).slice(2)}`;
		const tokenPort = await freePort(port + 1);
		fs.writeFileSync(
			path.join(dir, "token.conf"),
			[
				`listen: "127.0.0.1:${tokenPort}"`,
				`tls { cert_file: "${path.join(dir, "server.pem")}", key_file: "${path.join(dir, "server-key.pem")}", timeout: 2 }`,
				`authorization { token: "${token}" }`,
			].join("\n"),
		);
		let out = "";
		const server = spawn(NATS_SERVER_BIN, ["-c", path.join(dir, "token.conf")], { stdio: ["ignore", "pipe", "pipe"] });
		server.stdout?.on("data", (c: Buffer) => (out += c.toString()));
		server.stderr?.on("data", (c: Buffer) => (out += c.toString()));
		try {
			await waitListening(tokenPort, server, () => out);
			const env = { NATS_URL: `tls://127.0.0.1:${tokenPort}`, NATS_TOKEN: token, NATS_TLS_CA_FILE: path.join(dir, "ca.pem") };
			const [e, f] = [node(env, "e"), node(env, "f")];
			await e.start();
			await f.start();
			await f.waitForServices(["echo-e"], 10_000);
			expect(await f.call("echo-e.hello")).toBe(`hello from e (asked by f-${namespace})`);
			const without = node({ ...env, NATS_TOKEN: "" }, "g");
			const refused = await (without.transit as unknown as { tx: { connect(): Promise<void> } }).tx.connect().then(
				() => null,
				(err: Error) => err,
			);
			expect(refused?.message).toMatch(/authori[sz]ation/i);
			await e.stop();
			await f.stop();
		} finally {
			await stopChild(server, 5000);
		}
		expect(logged.join("\n")).not.toContain(token);
	}, 60_000);

	it("never writes the password or a URL with it to the log", () => {
		const text = logged.join("\n");
		expect(text.length).toBeGreaterThan(0);
		expect(text).not.toContain(PASSWORD);
	});
});
