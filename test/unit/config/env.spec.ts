import { ConfigError, loadConfig } from "../../../config/env";

describe("loadConfig", () => {
	it("chooses the embedded defaults when nothing is set", () => {
		const c = loadConfig({});
		expect(c).toMatchObject({ nodeEnv: "development", port: 8080, natsUrl: null, redisUrl: null, mongoUrl: null, services: null });
		expect(c.dataDir).toMatch(/data$/);
		expect(c.behaviorEnabled).toBe(true);
	});

	it("keeps every collection in memory under NODE_ENV=test unless DATA_DIR is set", () => {
		expect(loadConfig({ NODE_ENV: "test" }).dataDir).toBeNull();
		expect(loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/x" }).dataDir).toBe("/tmp/x");
	});

	it("reads the distributed settings", () => {
		const c = loadConfig({ NATS_URL: "nats://127.0.0.1:4222", REDIS_URL: "redis://localhost:6379/2", SERVICES: "api, users", PORT: "9000" });
		expect(c).toMatchObject({ natsUrl: "nats://127.0.0.1:4222", redisUrl: "redis://localhost:6379/2", services: ["api", "users"], port: 9000 });
	});

	it("keeps processed event ids 7 days with a durable store and 2 minutes with a memory store", () => {
		const day = 24 * 3600_000;
		expect(loadConfig({ NODE_ENV: "test" }).retention).toEqual({
			outboxRetentionMs: 10_000,
			dedupeWindowMs: 120_000,
			pruneIntervalMs: 1000,
			notificationsPerUser: 100,
			notificationsMaxAgeMs: 90 * day,
			channelCacheMs: 30_000,
			idempotencyKeyTtlMs: day,
		});
		expect(loadConfig({ DATA_DIR: "/tmp/x" }).retention.dedupeWindowMs).toBe(7 * day);
		expect(loadConfig({ DATA_DIR: "memory", MONGO_URL: "mongodb://localhost/x" }).retention.dedupeWindowMs).toBe(7 * day);
		const set = loadConfig({ EVENTS_OUTBOX_RETENTION_MS: "0", EVENTS_DEDUPE_WINDOW_MS: "600000", NOTIFICATIONS_KEEP_PER_USER: "5", NOTIFICATIONS_RETENTION_DAYS: "2", NOTIFICATIONS_CHANNEL_CACHE_MS: "0", IDEMPOTENCY_KEY_TTL_HOURS: "48" });
		expect(set.retention).toMatchObject({ outboxRetentionMs: 0, dedupeWindowMs: 600_000, notificationsPerUser: 5, notificationsMaxAgeMs: 2 * day, channelCacheMs: 0, idempotencyKeyTtlMs: 2 * day });
	});

	it.each([
		[{ EVENTS_DEDUPE_WINDOW_MS: "60000" }, "EVENTS_DEDUPE_WINDOW_MS"],
		[{ EVENTS_OUTBOX_RETENTION_MS: "-1" }, "EVENTS_OUTBOX_RETENTION_MS"],
		[{ EVENTS_PRUNE_INTERVAL_MS: "0" }, "EVENTS_PRUNE_INTERVAL_MS"],
		[{ NOTIFICATIONS_KEEP_PER_USER: "0" }, "NOTIFICATIONS_KEEP_PER_USER"],
		[{ NOTIFICATIONS_RETENTION_DAYS: "1.5" }, "NOTIFICATIONS_RETENTION_DAYS"],
		[{ IDEMPOTENCY_KEY_TTL_HOURS: "0" }, "IDEMPOTENCY_KEY_TTL_HOURS"],
		[{ PORT: "eighty" }, "PORT"],
		[{ PORT: "70000" }, "PORT"],
		[{ NATS_URL: "127.0.0.1:4222" }, "NATS_URL"],
		[{ REDIS_URL: "http://localhost" }, "REDIS_URL"],
		[{ NODE_ENV: "staging" }, "NODE_ENV"],
		[{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
		[{ CHAOS_ENABLED: "maybe" }, "CHAOS_ENABLED"],
		[{ ADMIN_PASSWORD: "short" }, "ADMIN_PASSWORD"],
		[{ GATEWAY_CACHE_TTL_MS: "-1" }, "GATEWAY_CACHE_TTL_MS"],
		[{ GATEWAY_CACHE_TTL_MS: "1s" }, "GATEWAY_CACHE_TTL_MS"],
		[{ GATEWAY_CACHE_MAX_ENTRIES: "0" }, "GATEWAY_CACHE_MAX_ENTRIES"],
		[{ GATEWAY_CACHE_MAX_KB: "1" }, "GATEWAY_CACHE_MAX_KB"],
		[{ HEAP_GROWING_PERCENT: "500" }, "HEAP_GROWING_PERCENT"],
		[{ HEAP_GROWING_PERCENT: "-5" }, "HEAP_GROWING_PERCENT"],
	])("fails with one line naming the variable for %j", (env, variable) => {
		expect(() => loadConfig(env)).toThrow(ConfigError);
		try {
			loadConfig(env);
		} catch (err) {
			expect((err as ConfigError).variable).toBe(variable);
			expect((err as Error).message.startsWith(`${variable}:`)).toBe(true);
			expect((err as Error).message).not.toContain("\n");
		}
	});

	it("reads the gateway response cache settings: one second and 16 MB unless set, 0 switches it off", () => {
		expect(loadConfig({})).toMatchObject({ gatewayCacheTtlMs: 1000, gatewayCacheMaxEntries: 1000, gatewayCacheMaxBytes: 16 * 1024 * 1024 });
		const c = loadConfig({ GATEWAY_CACHE_TTL_MS: "0", GATEWAY_CACHE_MAX_ENTRIES: "50", GATEWAY_CACHE_MAX_KB: "64" });
		expect(c).toMatchObject({ gatewayCacheTtlMs: 0, gatewayCacheMaxEntries: 50, gatewayCacheMaxBytes: 64 * 1024 });
	});

	it("lets the heap grow 20% past the live data unless HEAP_GROWING_PERCENT says otherwise (0: V8's own factor)", () => {
		expect(loadConfig({}).heapGrowingPercent).toBe(20);
		expect(loadConfig({ HEAP_GROWING_PERCENT: "0" }).heapGrowingPercent).toBe(0);
		expect(loadConfig({ HEAP_GROWING_PERCENT: "75" }).heapGrowingPercent).toBe(75);
	});

	it("stops a production start without JWT_SECRET or ADMIN_PASSWORD", () => {
		expect(() => loadConfig({ NODE_ENV: "production", ADMIN_PASSWORD: "long-enough-pass" })).toThrow(/JWT_SECRET/);
		expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40) })).toThrow(/ADMIN_PASSWORD/);
		const ok = loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), ADMIN_PASSWORD: "long-enough-pass", EVENTS_SIGNING_KEY: "k".repeat(40) });
		expect(ok.isProduction).toBe(true);
		expect(ok.behaviorEnabled).toBe(false);
	});

	it("stops a production start without a proper EVENTS_SIGNING_KEY, and signs with it then accepts EVENTS_VERIFY_KEYS too", () => {
		const prod = { NODE_ENV: "production", JWT_SECRET: "x".repeat(40), ADMIN_PASSWORD: "long-enough-pass" };
		expect(() => loadConfig(prod)).toThrow(/^EVENTS_SIGNING_KEY: is required/);
		expect(() => loadConfig({ ...prod, EVENTS_SIGNING_KEY: "short" })).toThrow(/^EVENTS_SIGNING_KEY: must be at least 32/);
		expect(() => loadConfig({ ...prod, EVENTS_SIGNING_KEY: "shopflow-development-events-key-do-not-use-in-production" })).toThrow(/development key/);
		expect(() => loadConfig({ ...prod, EVENTS_SIGNING_KEY: "replace-with-another-32-or-more-random-characters" })).toThrow(/placeholder/);
		expect(() => loadConfig({ ...prod, EVENTS_SIGNING_KEY: "k".repeat(40), EVENTS_VERIFY_KEYS: "old" })).toThrow(/^EVENTS_VERIFY_KEYS: /);
		const c = loadConfig({ ...prod, EVENTS_SIGNING_KEY: "k".repeat(40), EVENTS_VERIFY_KEYS: ` ${"o".repeat(40)} ,${"k".repeat(40)}` });
		expect(c.eventsSigningKeys).toEqual(["k".repeat(40), "o".repeat(40)]);
		expect(c.eventsSigningKeyIsDefault).toBe(false);
		const dev = loadConfig({});
		expect(dev.eventsSigningKeys).toHaveLength(1);
		expect(dev.eventsSigningKeyIsDefault).toBe(true);
	});

	it("turns fault injection on in production only with CHAOS_ENABLED=true", () => {
		const c = loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), ADMIN_PASSWORD: "long-enough-pass", EVENTS_SIGNING_KEY: "k".repeat(40), CHAOS_ENABLED: "true" });
		expect(c.behaviorEnabled).toBe(true);
	});
});
