/**
 * The shop a chaos scenario runs against: every service in one broker with memory stores, on a free port,
 * with the chaos observer added to ShopFlow's own middlewares; a few products stocked generously.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ServiceBroker } from "moleculer";
import { loadConfig, setConfig, type Config } from "../../config/env";
import { createShopBroker } from "../../config/boot/broker";
import { brokerMiddlewares } from "../../config/middlewares";
import { ChaosObserver } from "./observer";

export interface ChaosShop {
	broker: ServiceBroker;
	config: Config;
	url: string;
	observer: ChaosObserver;
	products: string[];
	stop(): Promise<void>;
}

export interface ChaosShopOptions {
	/** Products to buy from (the first ones of the demo catalog). */
	productCount?: number;
	/** Units to add to each of them. */
	stock?: number;
	logLevel?: string;
	/** The gateway's port (0 or absent: any free port). */
	port?: number;
	/** Prefix of the shop's namespace (default chaos); a random suffix keeps scenarios apart. */
	namespace?: string;
}

/** Starts an embedded shop for one scenario (its own namespace, so nothing leaks between scenarios). */
export async function startChaosShop(opts: ChaosShopOptions = {}): Promise<ChaosShop> {
	const config = setConfig(
		loadConfig({
			NODE_ENV: "development",
			NAMESPACE: `${opts.namespace ?? "chaos"}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
			PORT: String(opts.port ?? 0),
			DATA_DIR: "memory",
			LOG_LEVEL: opts.logLevel ?? "error",
			SEED_DEMO_DATA: "true",
			DELIVERY_DELAY_MS: "300",
			RATE_LIMIT_PER_MINUTE: "10000000",
		}),
	);
	const observer = new ChaosObserver();
	const broker = createShopBroker({ config, broker: { middlewares: brokerMiddlewares(config, [observer.middleware()]) } });
	await broker.start();
	const api = broker.getLocalService("api") as unknown as { server: Server };
	const url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;

	const { rows } = (await broker.call("products.list", { page: 1, page_size: 100 })) as { rows: Array<{ id: string; availability?: { available: number } }> };
	const products = rows.slice(0, opts.productCount ?? 5).map(p => p.id);
	if (products.length === 0) throw new Error("the demo catalog is empty: the chaos run needs products");
	for (const id of products) {
		const levels = (await broker.call("inventory.levels", { product_id: id })) as { warehouses: Array<{ warehouse_id: string }> };
		await broker.call("inventory.restock", { product_id: id, warehouse_id: levels.warehouses[0]?.warehouse_id ?? "main", quantity: opts.stock ?? 100_000 });
	}
	return { broker, config, url, observer, products, stop: () => broker.stop() };
}
