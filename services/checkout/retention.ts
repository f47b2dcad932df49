/**
 * Expiry of checkout's Idempotency-Key records: a record older than the key's time to live is removed, after which
 * a repeat of the key is a new checkout (the usual contract of idempotency keys: 24 hours by default). Runs in the
 * background in bounded batches, like the other retention passes.
 */
import type { Logger } from "moleculer";
import { BackgroundPass, removeMatching } from "../../mixins/db/background-pass";
import type { Repository } from "../../mixins/db.mixin";

export interface IdempotencyRecord {
	id: string;
	created_at: string;
}

export interface KeyExpiryOptions {
	ttlMs: number;
	/** Milliseconds between passes (default 60 s). */
	intervalMs?: number;
	/** Records that matter for less time (a cart version's claim), removed after their own TTL. */
	shortLived?: { query: Record<string, unknown>; ttlMs: number };
	/** The clock (tests move it instead of waiting). */
	now?: () => number;
}

const BATCH = 250;
const MAX_BATCHES = 40;

export class IdempotencyKeyExpiry<T extends IdempotencyRecord> extends BackgroundPass<number> {
	private readonly now: () => number;

	constructor(
		private readonly repo: Repository<T>,
		private readonly opts: KeyExpiryOptions,
		logger: Logger,
	) {
		super(logger, "idempotency key expiry");
		this.now = opts.now ?? Date.now;
	}

	/** Runs a pass every `intervalMs` until `stop`. */
	start(): void {
		this.startEvery(this.opts.intervalMs ?? 60_000);
	}

	/** Removes the records created more than `ttlMs` ago; returns how many. */
	protected async pass(): Promise<number> {
		const before = (ttlMs: number) => ({ created_at: { $lt: new Date(this.now() - ttlMs).toISOString() } });
		let removed = await removeMatching(this.repo, before(this.opts.ttlMs), BATCH, MAX_BATCHES);
		const short = this.opts.shortLived;
		if (short) removed += await removeMatching(this.repo, { ...short.query, ...before(short.ttlMs) }, BATCH, MAX_BATCHES);
		return removed;
	}
}
