/**
 * moleculer-web rate-limit store on ShopFlow's key-value store: per-client counters in Redis when REDIS_URL is
 * set (shared by every gateway node), in process otherwise.
 */
import type { KeyValueStore } from "../../mixins/kv/store";

export interface RateLimitStoreOptions {
	kv: KeyValueStore;
}

/** Builds a StoreFactory class bound to one key-value store (moleculer-web instantiates it per route). */
export function rateLimitStoreFactory(kv: KeyValueStore): new (windowMs: number) => { inc(key: string): Promise<number>; resetTime: number } {
	return class KeyValueRateLimitStore {
		resetTime = Date.now();

		constructor(private readonly windowMs: number) {}

		/** Counts one request of a client in the current window. */
		async inc(key: string): Promise<number> {
			try {
				const { count, resetMs } = await kv.incrWindow(`ratelimit:${key}`, this.windowMs);
				this.resetTime = Date.now() + resetMs;
				return count;
			} catch {
				// A Redis outage must not take the shop down: fail open and let /health/ready report it.
				return 0;
			}
		}
	};
}
