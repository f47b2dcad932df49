import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";

import { ServiceConfigMiddleware } from "../../../config/middlewares/service-config";
import { DbMixin, DuplicateKeyError, type Repository } from "../../../mixins/db.mixin";
import { testConfig } from "../../helpers/shop";

interface Row {
	id: string;
	sku: string;
	available: number;
	reserved: number;
}

async function startStore(dataDir: string | null): Promise<{ broker: ServiceBroker; repo: Repository<Row> }> {
	const config = testConfig(dataDir ? { DATA_DIR: dataDir } : {});
	const broker = new ServiceBroker({ logger: false, middlewares: [ServiceConfigMiddleware(config)] });
	const svc = broker.createService({
		name: "store",
		mixins: [DbMixin({ rows: { indexes: [{ fields: ["sku"], unique: true }] } })],
	}) as unknown as { collection(name: string): Repository<Row> };
	await broker.start();
	return { broker, repo: svc.collection("rows") };
}

describe("DbMixin", () => {
	it("inserts with a generated or given string id and reads it back as `id`", async () => {
		const { broker, repo } = await startStore(null);
		const a = await repo.insert({ sku: "a", available: 1, reserved: 0 });
		const b = await repo.insert({ id: "laptop-123", sku: "b", available: 2, reserved: 0 });
		expect(typeof a.id).toBe("string");
		expect(b.id).toBe("laptop-123");
		expect(await repo.findById("laptop-123")).toEqual({ id: "laptop-123", sku: "b", available: 2, reserved: 0 });
		expect(await repo.find({ id: "laptop-123" })).toHaveLength(1);
		await broker.stop();
	});

	it("enforces unique indexes with a DuplicateKeyError", async () => {
		const { broker, repo } = await startStore(null);
		await repo.insert({ sku: "same", available: 1, reserved: 0 });
		await expect(repo.insert({ sku: "same", available: 1, reserved: 0 })).rejects.toBeInstanceOf(DuplicateKeyError);
		expect(await repo.count({ sku: "same" })).toBe(1);
		await broker.stop();
	});

	it("applies a conditional update atomically so concurrent takers never go below zero", async () => {
		const { broker, repo } = await startStore(null);
		await repo.insert({ id: "row", sku: "r", available: 10, reserved: 0 });
		const results = await Promise.all(
			Array.from({ length: 50 }, () => repo.updateWhere({ id: "row", available: { $gte: 1 } }, { $inc: { available: -1, reserved: 1 } })),
		);
		expect(results.filter(n => n === 1)).toHaveLength(10);
		expect(await repo.findById("row")).toMatchObject({ available: 0, reserved: 10 });
		await broker.stop();
	});

	it("sorts, limits and offsets", async () => {
		const { broker, repo } = await startStore(null);
		await repo.insertMany([1, 2, 3, 4, 5].map(n => ({ sku: `s${n}`, available: n, reserved: 0 })));
		const page = await repo.find({}, { sort: ["-available"], limit: 2, offset: 1 });
		expect(page.map(r => r.available)).toEqual([4, 3]);
		await broker.stop();
	});

	it("keeps the NeDB files under DATA_DIR across restarts", async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-db-"));
		const first = await startStore(dir);
		await first.repo.insert({ id: "kept", sku: "k", available: 3, reserved: 0 });
		await first.broker.stop();
		expect(fs.existsSync(path.join(dir, "store.rows.db"))).toBe(true);
		const second = await startStore(dir);
		expect(await second.repo.findById("kept")).toMatchObject({ available: 3 });
		await second.broker.stop();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it("says its collections are open only between started and stopped", async () => {
		const broker = new ServiceBroker({ logger: false, middlewares: [ServiceConfigMiddleware(testConfig({}))] });
		const svc = broker.createService({ name: "store", mixins: [DbMixin({ rows: {} })] }) as unknown as { collectionsOpen(): boolean };
		expect(svc.collectionsOpen()).toBe(false);
		await broker.start();
		expect(svc.collectionsOpen()).toBe(true);
		await broker.stop();
		expect(svc.collectionsOpen()).toBe(false);
	});

	it("lets a mixin that starts before it use a collection: the call waits for the store to connect", async () => {
		// Moleculer runs the started handlers of later mixins first: EventsMixin (listed after DbMixin) began consuming
		// events before the store was connected, and a handler reading the store failed with a TypeError until the
		// event was dead-lettered (crashtest --cluster, orders node restarted with a pending order.shipped).
		const broker = new ServiceBroker({ logger: false, middlewares: [ServiceConfigMiddleware(testConfig({}))] });
		let early: Promise<unknown> = Promise.resolve();
		broker.createService({
			name: "store",
			mixins: [
				DbMixin({ rows: {} }),
				{
					started(this: unknown) {
						const svc = this as { collection(name: string): Repository<Row> };
						early = svc.collection("rows").insert({ id: "early", sku: "e", available: 1, reserved: 0 });
					},
				},
			],
		});
		await broker.start();
		await expect(early).resolves.toMatchObject({ id: "early" });
		await broker.stop();
	});

	it("answers its storage health check", async () => {
		const { broker } = await startStore(null);
		await expect(broker.call("store.storageHealth")).resolves.toEqual({ ok: true, store: "nedb-memory" });
		await broker.stop();
	});
});
