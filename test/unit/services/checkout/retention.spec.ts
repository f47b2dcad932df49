import { ServiceBroker } from "moleculer";
import { closeAdapter, connectAdapter, openAdapter, Repository, type StoreAdapter } from "../../../../mixins/db.mixin";
import { IdempotencyKeyExpiry } from "../../../../services/checkout/retention";
import { testConfig } from "../../../helpers/shop";

const HOUR = 3_600_000;

interface Rec {
	id: string;
	created_at: string;
	state: string;
}

describe("idempotency key expiry", () => {
	const broker = new ServiceBroker({ logger: false });
	const logger = broker.getLogger("test");
	const config = testConfig();
	let adapter: StoreAdapter;
	let repo: Repository<Rec>;
	let clock = Date.now();
	const store = (id: string, ageMs: number, state = "DONE") => repo.insert({ id, state, created_at: new Date(clock - ageMs).toISOString() });
	const ids = async () => (await repo.find({}, { sort: ["id"] })).map(r => r.id);

	beforeEach(async () => {
		clock = Date.now();
		adapter = openAdapter(broker, logger, config, "checkout", "requests");
		await connectAdapter(adapter, config, [{ fields: ["created_at"] }]);
		repo = new Repository<Rec>("requests", adapter);
	});
	afterEach(() => closeAdapter(adapter));

	it("removes the records older than the time to live, finished or not, and keeps the others", async () => {
		await store("old-done", 25 * HOUR);
		await store("old-stuck", 30 * HOUR, "IN_PROGRESS");
		await store("fresh", 23 * HOUR);
		await store("new", 0);
		const expiry = new IdempotencyKeyExpiry(repo, { ttlMs: 24 * HOUR, now: () => clock }, logger);
		expect(await expiry.runOnce()).toBe(2);
		expect(await ids()).toEqual(["fresh", "new"]);
		clock += 2 * HOUR;
		expect(await expiry.runOnce()).toBe(1);
		expect(await ids()).toEqual(["new"]);
	});

	it("works through more than one batch in a pass", async () => {
		await repo.insertMany(Array.from({ length: 600 }, (_, i) => ({ id: `r${i}`, state: "DONE", created_at: new Date(clock - 48 * HOUR - i).toISOString() })));
		await store("keep", HOUR);
		const expiry = new IdempotencyKeyExpiry(repo, { ttlMs: 24 * HOUR, now: () => clock }, logger);
		expect(await expiry.runOnce()).toBe(600);
		expect(await ids()).toEqual(["keep"]);
	});

	it("runs on its timer until stopped", async () => {
		await store("old", 25 * HOUR);
		const expiry = new IdempotencyKeyExpiry(repo, { ttlMs: 24 * HOUR, intervalMs: 10, now: () => clock }, logger);
		expiry.start();
		const end = Date.now() + 2000;
		while ((await ids()).length > 0 && Date.now() < end) await new Promise(r => setTimeout(r, 10));
		await expiry.stop();
		expect(expiry.active).toBe(false);
		expect(await ids()).toEqual([]);
	});
});
