import { ServiceBroker } from "moleculer";
import { closeAdapter, connectAdapter, openAdapter, Repository, type StoreAdapter } from "../../../../mixins/db.mixin";
import type { NotificationDoc } from "../../../../services/notifications/model";
import { NotificationRetention } from "../../../../services/notifications/retention";
import { testConfig } from "../../../helpers/shop";

const DAY = 24 * 3600_000;

describe("notification retention", () => {
	const broker = new ServiceBroker({ logger: false });
	const logger = broker.getLogger("test");
	const config = testConfig();
	let adapter: StoreAdapter;
	let repo: Repository<NotificationDoc>;
	let clock = Date.now();

	/** A stored notification for `user` whose event happened `ageMs` before the clock. */
	const store = (id: string, user: string | null, ageMs: number, staged = false): Promise<NotificationDoc> => {
		const at = new Date(clock - ageMs).toISOString();
		return repo.insert({
			id,
			user_id: user,
			audience: user ? "customer" : "admins",
			channel: "email",
			event_name: "order.created",
			event_id: id,
			order_id: null,
			title: "t",
			message: "m",
			status: "sent",
			occurred_at: at,
			created_at: at,
			pending_events: staged ? [{ event_id: `ev-${id}` } as unknown as NonNullable<NotificationDoc["pending_events"]>[number]] : [],
		});
	};
	const ids = async (user: string | null): Promise<string[]> => (await repo.find({ user_id: user }, { sort: ["-occurred_at"] })).map(n => n.id);

	beforeEach(async () => {
		clock = Date.now();
		adapter = openAdapter(broker, logger, config, "notifications", "notifications");
		await connectAdapter(adapter, config, [{ fields: ["user_id"] }]);
		repo = new Repository<NotificationDoc>("notifications", adapter);
	});
	afterEach(() => closeAdapter(adapter));

	it("keeps each notified user's newest notifications and the admins' newest notices", async () => {
		for (let i = 0; i < 6; i++) await store(`a${i}`, "alice", i * 1000);
		for (let i = 0; i < 2; i++) await store(`b${i}`, "bob", i * 1000);
		for (let i = 0; i < 5; i++) await store(`n${i}`, null, i * 1000);
		const retention = new NotificationRetention(repo, { keepPerUser: 3, maxAgeMs: 90 * DAY, now: () => clock }, logger);
		for (const user of ["alice", "bob", null]) retention.touch(user);
		expect(await retention.runOnce()).toEqual({ trimmed: 5, expired: 0 });
		expect(await ids("alice")).toEqual(["a0", "a1", "a2"]);
		expect(await ids("bob")).toEqual(["b0", "b1"]);
		expect(await ids(null)).toEqual(["n0", "n1", "n2"]);
		// Users nobody notified since are left alone until they are.
		await store("a9", "alice", 9000);
		expect(await retention.runOnce()).toEqual({ trimmed: 0, expired: 0 });
		retention.touch("alice");
		expect(await retention.runOnce()).toEqual({ trimmed: 1, expired: 0 });
	});

	it("brings a user far over the limit back to it in one pass, several batches at a time", async () => {
		for (let i = 0; i < 620; i++) await store(`f${String(i).padStart(3, "0")}`, "fay", i * 1000);
		const retention = new NotificationRetention(repo, { keepPerUser: 10, maxAgeMs: 90 * DAY, now: () => clock }, logger);
		retention.touch("fay");
		expect(await retention.runOnce()).toEqual({ trimmed: 610, expired: 0 });
		expect(await ids("fay")).toEqual(Array.from({ length: 10 }, (_, i) => `f${String(i).padStart(3, "0")}`));
		// Nothing left to do: the user is not looked at again until notified again.
		expect(await retention.runOnce()).toEqual({ trimmed: 0, expired: 0 });
	});

	it("removes notifications older than the age limit on every n-th pass", async () => {
		await store("old", "carol", 91 * DAY);
		await store("new", "carol", DAY);
		const retention = new NotificationRetention(repo, { keepPerUser: 100, maxAgeMs: 90 * DAY, ageEvery: 2, now: () => clock }, logger);
		expect(await retention.runOnce()).toEqual({ trimmed: 0, expired: 1 });
		await store("old2", "carol", 95 * DAY);
		expect(await retention.runOnce()).toEqual({ trimmed: 0, expired: 0 });
		expect(await retention.runOnce()).toEqual({ trimmed: 0, expired: 1 });
		expect(await ids("carol")).toEqual(["new"]);
	});

	it("never removes a notification whose notification.sent is still staged in it", async () => {
		await store("staged-old", "dan", 100 * DAY, true);
		for (let i = 0; i < 3; i++) await store(`d${i}`, "dan", i * 1000);
		const retention = new NotificationRetention(repo, { keepPerUser: 2, maxAgeMs: 90 * DAY, now: () => clock }, logger);
		retention.touch("dan");
		expect(await retention.runOnce()).toEqual({ trimmed: 1, expired: 0 });
		expect(await ids("dan")).toEqual(["d0", "d1", "staged-old"]);
	});

	it("runs on its timer until stopped", async () => {
		for (let i = 0; i < 3; i++) await store(`e${i}`, "erin", i * 1000);
		const retention = new NotificationRetention(repo, { keepPerUser: 1, maxAgeMs: 90 * DAY, intervalMs: 10, now: () => clock }, logger);
		retention.touch("erin");
		retention.start();
		expect(retention.active).toBe(true);
		const end = Date.now() + 2000;
		while ((await ids("erin")).length > 1 && Date.now() < end) await new Promise(r => setTimeout(r, 10));
		await retention.stop();
		expect(retention.active).toBe(false);
		expect(await ids("erin")).toEqual(["e0"]);
	});
});
