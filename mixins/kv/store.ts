/**
 * The small key-value store behind carts, rate limits, idempotency keys and saga leases:
 * Redis through ioredis when REDIS_URL is set, a process-local map otherwise. Same semantics in both.
 */
import Redis from "ioredis";

export interface KeyValueStore {
	readonly kind: "memory" | "redis";
	get(key: string): Promise<string | null>;
	/** Stores a value, with an optional time to live in ms. */
	set(key: string, value: string, ttlMs?: number): Promise<void>;
	/** Stores the value only when the key is absent; true when it was stored. */
	setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
	/** Replaces the value only while it still equals `expected`; true when replaced. */
	compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean>;
	del(key: string): Promise<void>;
	/** Increments a counter that expires `windowMs` after its first increment; returns the new count and ms left. */
	incrWindow(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
	ping(): Promise<boolean>;
	close(): Promise<void>;
}

interface Entry {
	value: string;
	expiresAt: number;
}

export class MemoryKeyValueStore implements KeyValueStore {
	readonly kind = "memory" as const;
	private readonly map = new Map<string, Entry>();
	private sweeps = 0;

	private live(key: string): Entry | undefined {
		const e = this.map.get(key);
		if (e && e.expiresAt <= Date.now()) {
			this.map.delete(key);
			return undefined;
		}
		return e;
	}

	private put(key: string, value: string, ttlMs?: number): void {
		this.map.set(key, { value, expiresAt: ttlMs ? Date.now() + ttlMs : Number.POSITIVE_INFINITY });
		if (++this.sweeps % 10_000 === 0) this.sweep();
	}

	/** Drops expired entries so that short-lived keys do not pile up. */
	private sweep(): void {
		const now = Date.now();
		for (const [k, e] of this.map) if (e.expiresAt <= now) this.map.delete(k);
	}

	async get(key: string): Promise<string | null> {
		return this.live(key)?.value ?? null;
	}
	async set(key: string, value: string, ttlMs?: number): Promise<void> {
		this.put(key, value, ttlMs);
	}
	async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
		if (this.live(key)) return false;
		this.put(key, value, ttlMs);
		return true;
	}
	async compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean> {
		if (this.live(key)?.value !== expected) return false;
		this.put(key, value, ttlMs);
		return true;
	}
	async del(key: string): Promise<void> {
		this.map.delete(key);
	}
	async incrWindow(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
		const e = this.live(key);
		if (!e) {
			this.put(key, "1", windowMs);
			return { count: 1, resetMs: windowMs };
		}
		e.value = String(Number(e.value) + 1);
		return { count: Number(e.value), resetMs: e.expiresAt - Date.now() };
	}
	async ping(): Promise<boolean> {
		return true;
	}
	async close(): Promise<void> {
		this.map.clear();
	}
}

const CAS_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[3]) > 0 then redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) else redis.call("SET", KEYS[1], ARGV[2]) end
  return 1
end
return 0`;

const INCR_SCRIPT = `local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return {n, redis.call("PTTL", KEYS[1])}`;

export class RedisKeyValueStore implements KeyValueStore {
	readonly kind = "redis" as const;
	readonly client: Redis;

	constructor(url: string, private readonly prefix: string) {
		this.client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
		// A Redis outage is reported by /health/ready; without a listener ioredis would print every retry.
		this.client.on("error", () => undefined);
	}

	private k(key: string): string {
		return `${this.prefix}${key}`;
	}

	async get(key: string): Promise<string | null> {
		return this.client.get(this.k(key));
	}
	async set(key: string, value: string, ttlMs?: number): Promise<void> {
		if (ttlMs) await this.client.set(this.k(key), value, "PX", ttlMs);
		else await this.client.set(this.k(key), value);
	}
	async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
		const res = ttlMs
			? await this.client.set(this.k(key), value, "PX", ttlMs, "NX")
			: await this.client.set(this.k(key), value, "NX");
		return res === "OK";
	}
	async compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean> {
		const res = await this.client.eval(CAS_SCRIPT, 1, this.k(key), expected, value, String(ttlMs ?? 0));
		return res === 1;
	}
	async del(key: string): Promise<void> {
		await this.client.del(this.k(key));
	}
	async incrWindow(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
		const [count, ttl] = (await this.client.eval(INCR_SCRIPT, 1, this.k(key), String(windowMs))) as [number, number];
		return { count, resetMs: ttl > 0 ? ttl : windowMs };
	}
	async ping(): Promise<boolean> {
		try {
			return (await this.client.ping()) === "PONG";
		} catch {
			return false;
		}
	}
	async close(): Promise<void> {
		this.client.disconnect();
	}
}

/** Opens the store this configuration asks for; keys are prefixed with the namespace. */
export function createKeyValueStore(redisUrl: string | null, namespace: string): KeyValueStore {
	return redisUrl ? new RedisKeyValueStore(redisUrl, `${namespace}:`) : new MemoryKeyValueStore();
}

/**
 * Resolves once Redis at `url` answers PING, trying again until `timeoutMs` has passed; then rejects with one line
 * naming REDIS_URL and the address (without its password), instead of ioredis retrying (and logging) without end.
 */
export async function checkRedisReachable(url: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	do {
		const client = new Redis(url, {
			lazyConnect: true,
			connectTimeout: Math.max(100, Math.min(2000, deadline - Date.now())),
			maxRetriesPerRequest: 0,
			enableOfflineQueue: false,
			retryStrategy: () => null,
		});
		// The socket's error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed.".
		let socketError: unknown;
		client.on("error", err => (socketError ??= err));
		try {
			await client.connect();
			if ((await client.ping()) === "PONG") return;
			last = new Error("no PONG to PING");
		} catch (err) {
			last = socketError ?? err;
			if (/NOAUTH|WRONGPASS|invalid password/i.test((err as Error)?.message ?? "")) break;
		} finally {
			client.disconnect();
		}
		await new Promise(r => setTimeout(r, Math.max(0, Math.min(250, deadline - Date.now()))));
	} while (Date.now() < deadline);
	throw new Error(`REDIS_URL: cannot reach Redis at ${redactRedisUrl(url)} (${describe(last)}); gave up after ${timeoutMs} ms (CONNECT_TIMEOUT_MS)`);
}

/** A Redis URL fit for a log line: its password replaced by "***". */
function redactRedisUrl(url: string): string {
	try {
		const u = new URL(url);
		if (u.password) u.password = "***";
		return u.toString().replace(/\/$/, "");
	} catch {
		return "(unparsable URL)";
	}
}

/** A connection error in a few words. */
function describe(err: unknown): string {
	const e = err as { code?: string; message?: string } | null;
	const message = e?.message ?? String(err);
	return e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}
