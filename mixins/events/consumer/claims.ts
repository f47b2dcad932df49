/**
 * Consumer claims kept in a map of this process, for memory stores (DATA_DIR=memory without MONGO_URL): the
 * `events_processed` collection would live in the same process memory and die with it just the same, at about
 * three times the bytes per id (a NeDB document plus two index nodes, against one map entry). Same rules as the
 * collection: one claim per key, "busy" while it runs, "done" after, a stale claim taken over.
 */
import { CLAIM_STALE_MS } from "../policy";

export type ClaimResult = "claimed" | "done" | "busy";

interface Claim {
	done: boolean;
	claimedAt: number;
}

/** Claims by key, in the order they were made (a takeover moves a claim to the end), so pruning reads the front. */
export class MemoryClaims {
	private readonly claims = new Map<string, Claim>();

	/** Number of claims held, running or done. */
	get size(): number {
		return this.claims.size;
	}

	claim(key: string, now: number): ClaimResult {
		const held = this.claims.get(key);
		if (held?.done) return "done";
		if (held && now - held.claimedAt < CLAIM_STALE_MS) return "busy";
		this.claims.delete(key);
		this.claims.set(key, { done: false, claimedAt: now });
		return "claimed";
	}

	markDone(key: string): void {
		const held = this.claims.get(key);
		if (held) held.done = true;
	}

	/** Gives a running claim up; a done one stays. */
	release(key: string): void {
		if (this.claims.get(key)?.done === false) this.claims.delete(key);
	}

	doneCount(): number {
		let n = 0;
		for (const c of this.claims.values()) if (c.done) n++;
		return n;
	}

	/** Removes up to `limit` of the oldest claims made before `before` (epoch ms); returns how many. */
	prune(before: number, limit: number): number {
		let removed = 0;
		for (const [key, c] of this.claims) {
			if (removed >= limit || c.claimedAt >= before) break;
			this.claims.delete(key);
			removed++;
		}
		return removed;
	}
}
