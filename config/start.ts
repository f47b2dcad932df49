/**
 * `npm start`: starts the services of this node (all of them by default) and stops them cleanly on a signal.
 * `npm run repl` starts the same broker with moleculer-repl attached.
 */
import type { ServiceBroker } from "moleculer";
import { ConfigError, getConfig } from "./env";
import { createShopBroker } from "./broker";

async function main(): Promise<void> {
	const withRepl = process.argv.includes("--repl");
	let broker: ServiceBroker;
	try {
		const config = getConfig();
		broker = createShopBroker({ config });
	} catch (err) {
		if (err instanceof ConfigError) {
			process.stderr.write(`ShopFlow cannot start: ${err.message}\n`);
			process.exit(1);
		}
		throw err;
	}

	let stopping = false;
	const stop = async (signal: string): Promise<void> => {
		if (stopping) return;
		stopping = true;
		broker.logger.info(`${signal} received, stopping ShopFlow`);
		await broker.stop();
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
