/**
 * The benchmark's ceiling: a bare moleculer-web gateway in its own process whose one route, GET /api/v1/ping,
 * calls a local action that returns a constant. No auth, rate limit, metrics, tracing or middlewares: what
 * moleculer-web and the broker cost on this machine before ShopFlow adds anything.
 * `PORT=8090 node dist/test/tools/bare-gateway.js`
 */
import { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";

const PONG = { status: "ok", service: "bare" };

async function main(): Promise<void> {
	const broker = new ServiceBroker({ nodeID: `bare-${process.pid}`, logger: { type: "Console", options: { level: "warn" } } });
	broker.createService({
		name: "bare",
		actions: {
			/** The constant answer. */
			ping: { handler: (): typeof PONG => PONG },
		},
	});
	broker.createService({
		name: "api",
		mixins: [ApiGateway],
		settings: {
			port: Number(process.env.PORT ?? 8090),
			ip: "127.0.0.1",
			logRequest: null,
			logResponse: null,
			routes: [{ path: "/api/v1", aliases: { "GET /ping": "bare.ping" }, mappingPolicy: "restrict" }],
		},
	});
	const stop = async (): Promise<void> => {
		await broker.stop();
		process.exit(0);
	};
	process.on("SIGINT", () => void stop());
	process.on("SIGTERM", () => void stop());
	await broker.start();
}

main().catch(err => {
	process.stderr.write(`bare gateway failed: ${err instanceof Error ? err.message : String(err)}\n`);
	process.exit(1);
});
