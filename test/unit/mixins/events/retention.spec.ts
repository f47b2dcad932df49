import { ServiceBroker } from "moleculer";
import { EventStore } from "../../../../mixins/events/store";
import { EventsRetention } from "../../../../mixins/events/retention";
import { testConfig } from "../../../helpers/shop";

const msg = (id: string) => {
	const at = new Date().toISOString();
	return { event_id: id, name: "x.happened", source: "svc", event: { event_id: id, occurred_at: at }, meta: {}, created_at: at };
};
const SETTINGS = { outboxRetentionMs: 5_000, dedupeWindowMs: 120_000, pruneIntervalMs: 20 };

describe("the event retention timer", () => {
	const broker = new ServiceBroker({ logger: false });
	const logger = broker.getLogger("test");
	let store: EventStore;
	let clock = Date.now();

	beforeEach(async () => {
		clock = Date.now();
		store = new EventStore(broker, logger, testConfig(), "svc");
		await store.open();
	});
	afterEach(() => store.close());

	it("removes every sent row and claim past its retention in one pass, a batch at a time", async () => {
		for (let i = 0; i < 600; i++) {
			await store.addToOutbox(msg(`e${i}`));
			await store.markSent(`e${i}`);
			await store.claim(`g|e${i}`, clock);
			await store.markDone(`g|e${i}`);
		}
		await store.addToOutbox(msg("pending"));
		const retention = new EventsRetention(store, SETTINGS, logger, () => clock);
		expect(await retention.runOnce()).toEqual({ sent: 0, processed: 0 });
		clock += 10_000;
		expect(await retention.runOnce()).toEqual({ sent: 600, processed: 0 });
		clock += 120_000;
		expect(await retention.runOnce()).toEqual({ sent: 0, processed: 600 });
		expect(await store.counts()).toMatchObject({ pending_outbox: 1 });
		expect(await store.processedCount()).toBe(0);
	});

	it("prunes on its timer until stopped, and stop waits for the pass in progress", async () => {
		await store.addToOutbox(msg("a"));
		await store.markSent("a");
		clock += 10_000;
		const retention = new EventsRetention(store, SETTINGS, logger, () => clock);
		retention.start();
		expect(retention.active).toBe(true);
		const end = Date.now() + 2000;
		while ((await store.outbox.count()) > 0 && Date.now() < end) await new Promise(r => setTimeout(r, 10));
		expect(await store.outbox.count()).toBe(0);
		const pass = retention.runOnce();
		await retention.stop();
		expect(retention.active).toBe(false);
		await expect(pass).resolves.toEqual({ sent: 0, processed: 0 });
		await store.addToOutbox(msg("b"));
		await store.markSent("b");
		await new Promise(r => setTimeout(r, 100));
		expect(await store.outbox.count()).toBe(1);
	});
});
