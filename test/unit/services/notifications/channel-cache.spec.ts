import { ChannelCache, type Channel } from "../../../../services/notifications/channel-cache";

describe("the channel cache of notifications", () => {
	let clock = 0;
	let calls = 0;
	const load = (channel: Channel) => async (): Promise<Channel> => {
		calls++;
		return channel;
	};

	beforeEach(() => {
		clock = 1000;
		calls = 0;
	});

	it("asks once per user while the answer is fresh, and again after the TTL", async () => {
		const cache = new ChannelCache(30_000, 100, () => clock);
		expect(await cache.get("u1", load("sms"))).toBe("sms");
		expect(await cache.get("u1", load("push"))).toBe("sms");
		clock += 29_999;
		expect(await cache.get("u1", load("push"))).toBe("sms");
		clock += 1;
		expect(await cache.get("u1", load("push"))).toBe("push");
		expect(calls).toBe(2);
	});

	it("shares one lookup between concurrent notifications of a user", async () => {
		const cache = new ChannelCache(30_000, 100, () => clock);
		const answers = await Promise.all(Array.from({ length: 7 }, () => cache.get("u1", load("email"))));
		expect(answers).toEqual(Array(7).fill("email"));
		expect(calls).toBe(1);
	});

	it("does not keep a failed lookup", async () => {
		const cache = new ChannelCache(30_000, 100, () => clock);
		await expect(cache.get("u1", () => Promise.reject(new Error("users is down")))).rejects.toThrow("users is down");
		expect(await cache.get("u1", load("sms"))).toBe("sms");
		expect(calls).toBe(1);
	});

	it("holds at most maxEntries users, dropping the least recently stored", async () => {
		const cache = new ChannelCache(30_000, 2, () => clock);
		await cache.get("u1", load("sms"));
		await cache.get("u2", load("sms"));
		await cache.get("u3", load("sms"));
		expect(cache.size).toBe(2);
		await cache.get("u1", load("push"));
		expect(calls).toBe(4);
	});

	it("asks every time with a TTL of 0, and forgets on demand", async () => {
		const off = new ChannelCache(0, 100, () => clock);
		await off.get("u1", load("sms"));
		await off.get("u1", load("sms"));
		expect(calls).toBe(2);
		const cache = new ChannelCache(30_000, 100, () => clock);
		await cache.get("u1", load("sms"));
		cache.forget("u1");
		expect(await cache.get("u1", load("push"))).toBe("push");
	});
});
