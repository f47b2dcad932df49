/**
 * The compiled shop (dist/, built by Jest's global setup) started in a child process against a NATS or Redis that is
 * not there: it stops with exit code 1 and one line that names the variable and the address, instead of retrying
 * forever. CONNECT_TIMEOUT_MS is short here so that the test does not wait the default 15 s.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { NATS_URL } from "../helpers/shop";

const entry = path.resolve(__dirname, "..", "..", "dist", "config", "boot", "start.js");

/** A port on which nothing listens (taken from the system, then given back). */
async function closedPort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const port = (server.address() as net.AddressInfo).port;
	await new Promise(resolve => server.close(resolve));
	return port;
}

interface Exit {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** Starts ShopFlow with the given variables and waits for it to exit (the child is killed if it outlives 60 s). */
function startShop(env: Record<string, string>): Promise<Exit> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [entry], {
			env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", DATA_DIR: "memory", PORT: "0", LOG_LEVEL: "info", SERVICES: "cart", ...env },
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", d => (stdout += String(d)));
		child.stderr.on("data", d => (stderr += String(d)));
		const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
		child.on("error", reject);
		child.on("exit", code => {
			clearTimeout(guard);
			resolve({ code, stdout, stderr });
		});
	});
}

describe("starting against NATS or Redis that is not there", () => {
	it("stops with one line naming NATS_URL and its address when NATS does not answer", async () => {
		const port = await closedPort();
		const res = await startShop({ NATS_URL: `nats://127.0.0.1:${port}`, CONNECT_TIMEOUT_MS: "1000" });
		expect(res.code).toBe(1);
		const lines = res.stderr.trim().split("\n");
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(new RegExp(`^ShopFlow cannot start: NATS_URL: cannot reach NATS at nats://127\\.0\\.0\\.1:${port} \\(.+\\); gave up after 1000 ms \\(CONNECT_TIMEOUT_MS\\)$`));
		// Nothing was started: the broker was never created.
		expect(res.stdout).not.toContain("ServiceBroker is started");
	}, 60_000);

	it("stops with one line naming REDIS_URL and its address, without its password, when Redis does not answer", async () => {
		const port = await closedPort();
		const res = await startShop({ REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}/0`, CONNECT_TIMEOUT_MS: "1000" });
		expect(res.code).toBe(1);
		const lines = res.stderr.trim().split("\n");
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(new RegExp(`^ShopFlow cannot start: REDIS_URL: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 \\(.*ECONNREFUSED.*\\); gave up after 1000 ms \\(CONNECT_TIMEOUT_MS\\)$`));
		expect(res.stdout + res.stderr).not.toContain("s3cret-pw");
		expect(res.stdout.split("\n").length).toBeLessThan(5);
	}, 60_000);

	it("names both in the one line when neither answers, and only Redis when NATS is there", async () => {
		const [natsPort, redisPort] = [await closedPort(), await closedPort()];
		const both = await startShop({ NATS_URL: `nats://127.0.0.1:${natsPort}`, REDIS_URL: `redis://127.0.0.1:${redisPort}`, CONNECT_TIMEOUT_MS: "500" });
		expect(both.code).toBe(1);
		expect(both.stderr.trim().split("\n")).toHaveLength(1);
		expect(both.stderr).toContain(`NATS_URL: cannot reach NATS at nats://127.0.0.1:${natsPort}`);
		expect(both.stderr).toContain(`REDIS_URL: cannot reach Redis at redis://127.0.0.1:${redisPort}`);

		const redisOnly = await startShop({ NATS_URL, REDIS_URL: `redis://127.0.0.1:${redisPort}`, CONNECT_TIMEOUT_MS: "500" });
		expect(redisOnly.code).toBe(1);
		expect(redisOnly.stderr).toContain("REDIS_URL: cannot reach Redis");
		expect(redisOnly.stderr).not.toContain("NATS_URL");
	}, 60_000);

	it("refuses a CONNECT_TIMEOUT_MS that is not a number of milliseconds", async () => {
		const res = await startShop({ CONNECT_TIMEOUT_MS: "soon" });
		expect(res.code).toBe(1);
		expect(res.stderr.trim()).toBe('ShopFlow cannot start: CONNECT_TIMEOUT_MS: must be a whole number, got "soon"');
	}, 60_000);
});

describe("starting on a port that is taken (audit D17)", () => {
	let taken: net.Server;
	let port: number;
	beforeAll(async () => {
		taken = net.createServer();
		await new Promise<void>(resolve => taken.listen(0, "127.0.0.1", resolve));
		port = (taken.address() as net.AddressInfo).port;
	});
	afterAll(() => new Promise(resolve => taken.close(resolve)));

	it("stops with one line naming PORT and the port when the gateway's port is in use", async () => {
		const res = await startShop({ SERVICES: "api,users", PORT: String(port) });
		expect(res.code).toBe(1);
		expect(res.stderr.trim()).toBe(`ShopFlow cannot start: PORT: port ${port} is already in use`);
		expect(res.stdout).not.toContain("ServiceBroker is started");
	}, 60_000);

	it("stops with one line naming METRICS_PORT when the metrics port is in use", async () => {
		const res = await startShop({ SERVICES: "cart", METRICS_PORT: String(port) });
		expect(res.code).toBe(1);
		expect(res.stderr.trim()).toBe(`ShopFlow cannot start: METRICS_PORT: port ${port} is already in use`);
	}, 60_000);

	it("stops with one line naming METRICS_PORT when it is the same as PORT", async () => {
		const free = await closedPort();
		const res = await startShop({ SERVICES: "api,users", PORT: String(free), METRICS_PORT: String(free) });
		expect(res.code).toBe(1);
		expect(res.stderr.trim()).toBe(`ShopFlow cannot start: METRICS_PORT: is ${free}, the same as PORT; give each its own port`);
	}, 60_000);
});
