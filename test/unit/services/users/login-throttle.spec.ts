import { MemoryKeyValueStore } from "../../../../mixins/kv/store";
import { LoginThrottle, type AttemptSubject } from "../../../../services/users/login-throttle";

const settings = { maxFailuresPerAccount: 3, maxFailuresPerAddress: 5, lockMs: 30_000, windowMs: 900_000 };

describe("LoginThrottle", () => {
	let throttle: LoginThrottle;
	// The store's expiry and the throttle's clock both read Date.now, which the fake timers move.
	const advance = (ms: number): void => void jest.setSystemTime(Date.now() + ms);

	beforeEach(() => {
		jest.useFakeTimers({ now: 1_000_000, doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
		throttle = new LoginThrottle(new MemoryKeyValueStore(), settings);
	});
	afterEach(() => jest.useRealTimers());

	async function fail(subject: AttemptSubject): Promise<void> {
		await throttle.failed(await throttle.begin(subject));
	}

	it("locks an account after its allowed failures and says for how long", async () => {
		for (let i = 0; i < 3; i++) await fail({ account: "ann@example.com" });
		await expect(throttle.begin({ account: "ann@example.com" })).rejects.toMatchObject({ code: 429, type: "TOO_MANY_ATTEMPTS", data: { retry_after: 30 } });
		await expect(throttle.begin({ account: "bob@example.com" })).resolves.toBeDefined();
	});

	it("lets one attempt through when a lock ends and doubles the next lock after another failure", async () => {
		for (let i = 0; i < 3; i++) await fail({ account: "ann@example.com" });
		advance(30_001);
		await fail({ account: "ann@example.com" });
		await expect(throttle.begin({ account: "ann@example.com" })).rejects.toMatchObject({ data: { retry_after: 60 } });
	});

	it("forgets an account's failures after a success", async () => {
		for (let i = 0; i < 2; i++) await fail({ account: "ann@example.com" });
		await throttle.succeeded(await throttle.begin({ account: "ann@example.com" }));
		for (let i = 0; i < 2; i++) await fail({ account: "ann@example.com" });
		await expect(throttle.begin({ account: "ann@example.com" })).resolves.toBeDefined();
	});

	it("admits only the allowed number of a burst of parallel guesses", async () => {
		const results = await Promise.allSettled(Array.from({ length: 10 }, () => throttle.begin({ account: "ann@example.com" })));
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(4);
	});

	it("locks an address that guesses many accounts, and keeps its count through its own successes", async () => {
		const address = "ip:203.0.113.9";
		for (let i = 0; i < 4; i++) await fail({ account: `user${i}@example.com`, address });
		await throttle.succeeded(await throttle.begin({ account: "mine@example.com", address }));
		await fail({ account: "user9@example.com", address });
		await expect(throttle.begin({ account: "fresh@example.com", address })).rejects.toMatchObject({ code: 429 });
		await expect(throttle.begin({ account: "fresh@example.com", address: "ip:198.51.100.1" })).resolves.toBeDefined();
	});

	it("never locks longer than the window", async () => {
		throttle = new LoginThrottle(new MemoryKeyValueStore(), { ...settings, windowMs: 100_000 });
		for (let i = 0; i < 3; i++) await fail({ account: "ann@example.com" });
		advance(30_001);
		await fail({ account: "ann@example.com" });
		advance(60_001);
		await fail({ account: "ann@example.com" });
		await expect(throttle.begin({ account: "ann@example.com" })).rejects.toMatchObject({ data: { retry_after: 100 } });
	});
});
