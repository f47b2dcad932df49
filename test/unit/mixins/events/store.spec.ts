import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { closeAdapter, connectAdapter, openAdapter } from "../../../../mixins/db.mixin";
import { EventStore } from "../../../../mixins/events/store";
import { CLAIM_STALE_MS } from "../../../../mixins/events/policy";
import { testConfig } from "../../../helpers/shop";

const msg = (id: string, at: string) => ({ event_id: id, name: "x.happened", source: "svc", event: { event_id: id, occurred_at: at }, meta: {}, created_at: at });
const MINUTE = 60_000;

describe.each([
	["a memory store", false],
	["NeDB files", true],
])("the event store on %s", (_name, files) => {
	const broker = new ServiceBroker({ logger: false });
	let store: EventStore;
	let dir = "";

	beforeEach(async () => {
		dir = files ? fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-store-")) : "";
		store = new EventStore(broker, broker.getLogger("test"), testConfig(files ? { DATA_DIR: dir } : {}), "svc");
		await store.open();
	});
	afterEach(async () => {
		await store.close();
		if (dir) fs.rmSync(dir, { recursive: true, force: true });
	});

	it("lets one delivery run an event, tells a concurrent one to wait, and a later one that it is done", async () => {
		expect(await store.claim("g|e1", 1000)).toBe("claimed");
		expect(await store.claim("g|e1", 1001)).toBe("busy");
		await store.markDone("g|e1");
		expect(await store.claim("g|e1", 1002)).toBe("done");
		expect(await store.processedCount()).toBe(1);
	});

	it("frees the claim of a failed attempt for the next delivery", async () => {
		expect(await store.claim("g|e2", 1000)).toBe("claimed");
		await store.release("g|e2");
		expect(await store.claim("g|e2", 1001)).toBe("claimed");
	});

	it("takes over a claim whose holder went away a minute ago", async () => {
		expect(await store.claim("g|e3", 1000)).toBe("claimed");
		expect(await store.claim("g|e3", 30_000)).toBe("busy");
		expect(await store.claim("g|e3", 62_000)).toBe("claimed");
		expect(await store.claim("g|e3", 62_001)).toBe("busy");
	});

	it("keeps an event once in the outbox and lists the unsent ones oldest first", async () => {
		await store.addToOutbox(msg("b", "2026-01-01T00:00:02.000Z"));
		await store.addToOutbox(msg("a", "2026-01-01T00:00:01.000Z"));
		await store.addToOutbox(msg("a", "2026-01-01T00:00:01.000Z"));
		expect((await store.pending(10)).map(m => m.event_id)).toEqual(["a", "b"]);
		await store.markSent("a");
		expect((await store.pending(10)).map(m => m.event_id)).toEqual(["b"]);
		expect((await store.counts()).pending_outbox).toBe(1);
	});

	it("prunes sent outbox rows after the retention, in batches, and never a pending one", async () => {
		for (let i = 0; i < 7; i++) await store.addToOutbox(msg(`s${i}`, new Date().toISOString()));
		await store.addToOutbox(msg("p", new Date().toISOString()));
		for (let i = 0; i < 7; i++) await store.markSent(`s${i}`);
		const later = Date.now() + 10_000;
		expect(await store.pruneSent(60_000, 100, later)).toBe(0);
		expect(await store.pruneSent(5_000, 3, later)).toBe(3);
		expect(await store.pruneSent(5_000, 100, later)).toBe(4);
		expect(await store.pruneSent(0, 100, later + 365 * 24 * 3600_000)).toBe(0);
		expect(await store.outbox.count()).toBe(1);
		expect((await store.pending(10)).map(m => m.event_id)).toEqual(["p"]);
		// A pruned event stored again (a staged event swept twice) is pending again: relayed, and de-duplicated by consumers.
		await store.addToOutbox(msg("s0", new Date().toISOString()));
		expect((await store.counts()).pending_outbox).toBe(2);
	});

	it("skips a duplicate inside the dedupe window and forgets the event after it", async () => {
		const t0 = Date.now();
		expect(await store.claim("g|d1", t0)).toBe("claimed");
		await store.markDone("g|d1");
		const window = 2 * MINUTE;
		expect(await store.pruneProcessed(window, 100, t0 + window - 1)).toBe(0);
		expect(await store.claim("g|d1", t0 + window - 1)).toBe("done");
		expect(await store.pruneProcessed(window, 100, t0 + window + 1)).toBe(1);
		expect(await store.processedCount()).toBe(0);
		expect(await store.claim("g|d1", t0 + window + 2)).toBe("claimed");
	});

	it("never prunes a running claim before it is stale, so a takeover still decides", async () => {
		const t0 = Date.now();
		expect(await store.claim("g|r1", t0)).toBe("claimed");
		// Even with a window shorter than the stale limit (the configuration refuses one, the store guards anyway).
		expect(await store.pruneProcessed(1000, 100, t0 + CLAIM_STALE_MS - 1)).toBe(0);
		expect(await store.claim("g|r1", t0 + CLAIM_STALE_MS - 1)).toBe("busy");
		expect(await store.pruneProcessed(1000, 100, t0 + CLAIM_STALE_MS + 1)).toBe(1);
		expect(await store.claim("g|r1", t0 + CLAIM_STALE_MS + 2)).toBe("claimed");
	});

	it("drops the status index an earlier version left on the outbox", async () => {
		if (!files) return;
		await store.close();
		const config = testConfig({ DATA_DIR: dir });
		const legacy = openAdapter(broker, broker.getLogger("test"), config, "svc", "events_outbox");
		await connectAdapter(legacy, config, [{ fields: ["status"] }]);
		await closeAdapter(legacy);
		store = new EventStore(broker, broker.getLogger("test"), config, "svc");
		await store.open();
		const db = (store.outbox as unknown as { adapter: { db: { indexes: Record<string, unknown> } } }).adapter.db;
		expect(Object.keys(db.indexes).sort()).toEqual(["_id", "sent_at"]);
	});

	it("prunes processed ids a batch at a time, oldest first", async () => {
		const t0 = Date.now();
		for (let i = 0; i < 6; i++) {
			await store.claim(`g|b${i}`, t0 + i);
			await store.markDone(`g|b${i}`);
		}
		const at = t0 + 2 * MINUTE + 3;
		expect(await store.pruneProcessed(2 * MINUTE, 2, at)).toBe(2);
		expect(await store.pruneProcessed(2 * MINUTE, 2, at)).toBe(1);
		expect(await store.pruneProcessed(2 * MINUTE, 2, at)).toBe(0);
		expect(await store.claim("g|b2", at)).toBe("claimed");
		expect(await store.claim("g|b3", at)).toBe("done");
	});
});

describe("the event store's claims with Redis beside NeDB files", () => {
	const broker = new ServiceBroker({ logger: false });
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-store-redis-"));
	const store = new EventStore(broker, broker.getLogger("test"), testConfig({ DATA_DIR: dir, REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", NAMESPACE: `t-claims-${Date.now()}` }), "svc");
	beforeAll(() => store.open());
	afterAll(async () => {
		await store.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it("never leaves Redis done while the store still says processing when the process dies between the two writes", async () => {
		expect(await store.claim("g|crash-1")).toBe("claimed");
		// The process dies at the store's write of "done" (here: the write fails): Redis must not say done already.
		const update = store.processed.updateWhere.bind(store.processed);
		store.processed.updateWhere = () => Promise.reject(new Error("killed"));
		await expect(store.markDone("g|crash-1")).rejects.toThrow("killed");
		store.processed.updateWhere = update;
		expect((await store.processed.findById("g|crash-1"))?.status).toBe("processing");
		expect(await store.claim("g|crash-1")).not.toBe("done");
	});
});
