import { ServiceBroker } from "moleculer";
import { EventStore } from "../../../../config/events/store";
import { testConfig } from "../../../helpers/shop";

describe("the event store's claims", () => {
	const broker = new ServiceBroker({ logger: false });
	let store: EventStore;

	beforeEach(async () => {
		store = new EventStore(broker, broker.getLogger("test"), testConfig(), "svc");
		await store.open();
	});
	afterEach(() => store.close());

	it("lets one delivery run an event, tells a concurrent one to wait, and a later one that it is done", async () => {
		expect(await store.claim("g|e1", 1000)).toBe("claimed");
		expect(await store.claim("g|e1", 1001)).toBe("busy");
		await store.markDone("g|e1");
		expect(await store.claim("g|e1", 1002)).toBe("done");
		expect((await store.processed.findById("g|e1"))?.status).toBe("done");
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
		const msg = (id: string, at: string) => ({ event_id: id, name: "x.happened", source: "svc", event: { event_id: id, occurred_at: at }, meta: {}, created_at: at });
		await store.addToOutbox(msg("b", "2026-01-01T00:00:02.000Z"));
		await store.addToOutbox(msg("a", "2026-01-01T00:00:01.000Z"));
		await store.addToOutbox(msg("a", "2026-01-01T00:00:01.000Z"));
		expect((await store.pending(10)).map(m => m.event_id)).toEqual(["a", "b"]);
		await store.markSent("a");
		expect((await store.pending(10)).map(m => m.event_id)).toEqual(["b"]);
		expect((await store.counts()).pending_outbox).toBe(1);
	});
});
