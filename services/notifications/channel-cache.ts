/**
 * The notification channel of recently notified users, so that the notifications of an order (placed, shipped,
 * delivered, ...) ask `users` once instead of once each. Bounded (the least recently stored entry goes first) and short-lived: `users`
 * announces no event when a user changes their channel, so a change reaches notifications within `ttlMs`
 * (30 s by default, NOTIFICATIONS_CHANNEL_CACHE_MS). Concurrent lookups of one user share one call.
 */
export type Channel = "email" | "sms" | "push";

interface Entry {
	at: number;
	channel: Promise<Channel>;
}

export class ChannelCache {
	private readonly entries = new Map<string, Entry>();

	constructor(
		private readonly ttlMs: number,
		private readonly maxEntries = 10_000,
		private readonly now: () => number = Date.now,
	) {}

	/** Number of users remembered. */
	get size(): number {
		return this.entries.size;
	}

	/** The user's channel, from the cache while it is fresh, else from `load` (a failed load is not kept). */
	get(userId: string, load: () => Promise<Channel>): Promise<Channel> {
		if (this.ttlMs <= 0) return load();
		const hit = this.entries.get(userId);
		if (hit && this.now() - hit.at < this.ttlMs) return hit.channel;
		const entry: Entry = { at: this.now(), channel: load() };
		this.entries.delete(userId);
		this.entries.set(userId, entry);
		if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
		entry.channel.catch(() => {
			if (this.entries.get(userId) === entry) this.entries.delete(userId);
		});
		return entry.channel;
	}

	/** Forgets one user (their channel changed) or everyone. */
	forget(userId?: string): void {
		if (userId === undefined) this.entries.clear();
		else this.entries.delete(userId);
	}
}
