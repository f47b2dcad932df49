/**
 * `npm start`: starts the services of this node (all of them by default) and stops them cleanly on a signal.
 * `npm run repl` starts the same broker with moleculer-repl attached.
 */
import v8 from "node:v8";
import type { ServiceBroker } from "moleculer";
import { ConfigError, loadConfig, type Config } from "../env";

function fail(message: string): never {
	process.stderr.write(`ShopFlow cannot start: ${message}\n`);
	process.exit(1);
}

/** Stops the start with one line naming the variable and the address when NATS or Redis does not answer in time. */
async function checkConnections(config: Config): Promise<void> {
	// Loaded here, after the configuration is validated, like the broker below.
	const { checkNatsReachable } = await import("../../mixins/events/buses/connections");
	const { natsConnectOptions } = await import("../nats-options");
	const { checkRedisReachable } = await import("../../mixins/kv/store");
	const checks: Array<Promise<void>> = [];
	if (config.natsUrl) checks.push(checkNatsReachable(config.natsUrl, config.connectTimeoutMs, natsConnectOptions(config.natsUrl, config)));
	if (config.redisUrl) checks.push(checkRedisReachable(config.redisUrl, config.connectTimeoutMs));
	const failed = (await Promise.allSettled(checks)).filter((r): r is PromiseRejectedResult => r.status === "rejected");
	if (failed.length) fail(failed.map(r => (r.reason instanceof Error ? r.reason.message : String(r.reason))).join("; "));
}

async function main(): Promise<void> {
	const major = Number(process.versions.node.split(".")[0]);
	if (major < 22) fail(`Node ${process.versions.node} is too old; ShopFlow needs Node 22 or newer`);
	const withRepl = process.argv.includes("--repl");

	let broker: ServiceBroker;
	let config: Config;
	try {
		// The one read of the environment: everything below is given this configuration.
		config = loadConfig();
		// V8 lets the heap grow up to four times the live data between full collections when it allocates fast, which
		// under load put a whole shop at 400 MB of RSS for 120 MB of live objects. 1.2 times keeps the benchmark's shop
		// near 235 MB (1.3 times: 245 MB), for more frequent full collections (about 5% more CPU per order than 1.3
		// times, and between none and 15% more than V8's own factor; docs/benchmarks.md, "Memory").
		if (config.heapGrowingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
		// Before the broker: its transporter and Redis clients would retry without end and without naming the address.
		await checkConnections(config);
		// Loaded after the configuration is validated and the stores answer, so that a bad setting fails fast.
		const { createShopBroker, selectServices } = await import("./broker");
		// Before the broker too: a port in use would be its fatal error with a stack, not naming the variable.
		const { checkPorts } = await import("./ports");
		await checkPorts(config, selectServices(config.services).includes("api"));
		broker = createShopBroker({ config });
	} catch (err) {
		if (err instanceof ConfigError) fail(err.message);
		throw err;
	}

	let stopping = false;
	const stop = async (signal: string): Promise<void> => {
		if (stopping) return;
		stopping = true;
		broker.logger.info(`${signal} received, stopping ShopFlow (at most ${config.shutdownTimeoutMs} ms, SHUTDOWN_TIMEOUT_MS)`);
		// The stop is bounded: what has not finished by then is cut, as a SIGKILL would (the stores and the sagas recover).
		setTimeout(() => {
			process.stderr.write(`ShopFlow did not stop within SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms); exiting\n`);
			process.exit(1);
		}, config.shutdownTimeoutMs).unref();
		const { stopGracefully } = await import("./shutdown");
		await stopGracefully(broker, config);
		process.exit(0);
	};
	process.on("SIGINT", () => void stop("SIGINT"));
	process.on("SIGTERM", () => void stop("SIGTERM"));

	await broker.start();
	if (withRepl) await broker.repl();
}

main().catch(err => {
	process.stderr.write(`ShopFlow failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
	process.exit(1);
});
