/**
 * The benchmark's ceiling: a bare moleculer-web gateway in its own process whose route GET /api/v1/ping calls a
 * local action that returns a constant. No auth, rate limit, metrics, tracing or middlewares: what moleculer-web
 * and the broker cost on this machine before ShopFlow adds anything. GET /api/v1/page returns a constant page of
 * 20 products as large as ShopFlow's GET /products (about 10 KB), to tell the cost of the payload from the rest.
 * `PORT=8090 node dist/test/tools/bare-gateway.js`
 */
import { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";

const PONG = { status: "ok", service: "bare" };

/** A constant page shaped like GET /products: 20 rows of about 500 bytes. */
const PAGE = {
	rows: Array.from({ length: 20 }, (_, i) => ({
		id: `product-${i}`,
		name: `Product ${i}`,
		description: "A constant product description, long enough to weigh what a real one weighs in the catalog. ".repeat(3),
		brand: "Bare",
		category: "constants",
		price: 99.99,
		currency: "USD",
		image_url: `https://images.shopflow.example/products/product-${i}.jpg`,
		tags: ["constant", "bare"],
		rating_average: 0,
		rating_count: 0,
		availability: { available: 100, in_stock: true },
		created_at: "2026-01-01T00:00:00.000Z",
		updated_at: "2026-01-01T00:00:00.000Z",
	})),
	total: 20,
	page: 1,
	page_size: 20,
	total_pages: 1,
};

async function main(): Promise<void> {
	const broker = new ServiceBroker({ nodeID: `bare-${process.pid}`, logger: { type: "Console", options: { level: "warn" } } });
	broker.createService({
		name: "bare",
		actions: {
			/** The constant answer. */
			ping: { handler: (): typeof PONG => PONG },
			/** The constant page. */
			page: { handler: (): typeof PAGE => PAGE },
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
			routes: [{ path: "/api/v1", aliases: { "GET /ping": "bare.ping", "GET /page": "bare.page" }, mappingPolicy: "restrict" }],
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
