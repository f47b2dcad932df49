/**
 * The configuration parsed at boot reaches every service of the broker, and only that broker's services: no
 * global, so two brokers of one process keep their own settings, and no other node ever receives it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { createShopBroker } from "../../../../config/boot/broker";
import { configOf } from "../../../../config/env";
import { ServiceConfigMiddleware } from "../../../../config/middlewares/service-config";
import { DbMixin } from "../../../../mixins/db.mixin";
import { testConfig } from "../../../helpers/shop";

interface PublishedService {
	name: string;
	settings: Record<string, unknown>;
}

describe("ServiceConfigMiddleware", () => {
	it("gives each service the configuration of its broker and keeps the service's own settings", async () => {
		const config = testConfig({ NAMESPACE: "hc5-svc-config" });
		const broker = new ServiceBroker({ logger: false, middlewares: [ServiceConfigMiddleware(config)] });
		const svc = broker.createService({ name: "probe", settings: { page: 20, $secureSettings: ["token"], token: "t" } });
		expect(configOf(svc)).toBe(config);
		expect(svc.settings).toMatchObject({ page: 20, token: "t", $secureSettings: ["token", "$config"] });
		await broker.stop();
	});

	it("never publishes the configuration (and its secrets) in the service's registry entry", async () => {
		const config = testConfig({ NAMESPACE: "hc5-svc-config", JWT_SECRET: "s".repeat(40) });
		const broker = createShopBroker({ config, services: [] });
		broker.createService({ name: "probe", settings: { page: 20 } });
		await broker.start();
		// The node info Moleculer sends to the other nodes (INFO packet), and the registry's own list.
		const info = broker.registry.getLocalNodeInfo() as unknown as { services: PublishedService[] };
		const list = broker.registry.getServiceList({}) as PublishedService[];
		for (const services of [info.services, list]) {
			expect(services.find(s => s.name === "probe")?.settings).toEqual({ page: 20 });
			expect(JSON.stringify(services)).not.toContain(config.jwtSecret);
		}
		await broker.stop();
	});

	it("lets two brokers of one process run with different configurations", async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc5-svc-config-"));
		const store = { name: "store", mixins: [DbMixin({ rows: {} })] };
		const inMemory = createShopBroker({ config: testConfig({ NAMESPACE: "hc5-a" }), services: [] });
		const onDisk = createShopBroker({ config: testConfig({ NAMESPACE: "hc5-b", DATA_DIR: dir }), services: [] });
		inMemory.createService(store);
		onDisk.createService(store);
		await Promise.all([inMemory.start(), onDisk.start()]);
		try {
			expect(await inMemory.call("store.storageHealth")).toEqual({ ok: true, store: "nedb-memory" });
			expect(await onDisk.call("store.storageHealth")).toEqual({ ok: true, store: "nedb-file" });
		} finally {
			await Promise.all([inMemory.stop(), onDisk.stop()]);
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	it("names the service that was created without a configuration", () => {
		const broker = new ServiceBroker({ logger: false });
		const svc = broker.createService({ name: "bare" });
		expect(() => configOf(svc)).toThrow(/service 'bare' has no configuration/);
	});
});
