/**
 * Retention of notifications: each user keeps their newest `keepPerUser` (by the event's `occurred_at`, the
 * order the list shows), and nothing older than `maxAgeMs` is kept; the admins' notices count as one user.
 * Runs in the background in bounded batches: the users notified since the last pass are trimmed every pass, the
 * age limit is applied every `ageEvery` passes. A notification whose `notification.sent` is still staged in it
 * is never removed (the staged-event sweep publishes it first).
 */
import type { Logger } from "moleculer";
import { BackgroundPass, removeMatching } from "../../mixins/db/background-pass";
import type { Repository } from "../../mixins/db.mixin";
import type { NotificationDoc } from "./model";
import type { SellerSplitDoc } from "./sellers";

export interface NotificationRetentionOptions {
	keepPerUser: number;
	maxAgeMs: number;
	/** Milliseconds between passes (default 1 s). */
	intervalMs?: number;
	/** The age limit is applied on every n-th pass (default 300: every 5 minutes). */
	ageEvery?: number;
	/** The clock (tests move it instead of waiting). */
	now?: () => number;
}

/** What one pass removed. */
export interface NotificationPruneResult {
	trimmed: number;
	expired: number;
}

const BATCH = 250;
/** Users trimmed per pass; the others wait for the next one. */
const USERS_PER_PASS = 500;
const MAX_AGE_BATCHES = 20;
/** Batches removed per user and pass: 5,000 notifications. */
const MAX_TRIM_BATCHES = 20;
/** The notification has no staged event left in it. */
const NOTHING_STAGED = { "pending_events.0": { $exists: false } };
/** Newest first, as `notifications.list` shows them. */
const NEWEST_FIRST = ["-occurred_at", "-created_at"];

/** The retention timer of the notifications collection. */
export class NotificationRetention extends BackgroundPass<NotificationPruneResult> {
	/** Users (null: the admins' notices) notified since the last pass. */
	private readonly touched = new Set<string | null>();
	private passes = 0;
	private readonly now: () => number;

	constructor(
		private readonly repo: Repository<NotificationDoc>,
		private readonly opts: NotificationRetentionOptions,
		logger: Logger,
		/** The orders' lines per shop (sellers.ts): kept as long as notifications are. */
		private readonly splits?: Repository<SellerSplitDoc>,
	) {
		super(logger, "notification retention");
		this.now = opts.now ?? Date.now;
	}

	/** Notes that a user got a notification, so that the next pass trims their list. */
	touch(userId: string | null): void {
		this.touched.add(userId);
	}

	/** Runs a pass every `intervalMs` until `stop`. */
	start(): void {
		// Every second: a trim pass only reads the lists of the users notified since the last one.
		this.startEvery(this.opts.intervalMs ?? 1000);
	}

	protected async pass(): Promise<NotificationPruneResult> {
		const users = [...this.touched].slice(0, USERS_PER_PASS);
		let trimmed = 0;
		for (const user of users) {
			this.touched.delete(user);
			trimmed += await this.trimUser(user);
		}
		const expired = this.passes++ % (this.opts.ageEvery ?? 300) === 0 ? await this.expireOld() : 0;
		return { trimmed, expired };
	}

	/**
	 * Removes a user's notifications beyond the newest `keepPerUser`, a batch at a time, up to MAX_TRIM_BATCHES a
	 * pass. One batch a pass was not enough: a customer notified more than 50 times a second (the benchmark's
	 * virtual users) outgrew it, and their list grew without end.
	 */
	private async trimUser(userId: string | null): Promise<number> {
		const query = { user_id: userId };
		let over = (await this.repo.count(query)) - this.opts.keepPerUser;
		let removed = 0;
		for (let batch = 0; over > 0 && batch < MAX_TRIM_BATCHES; batch++) {
			const extra = await this.repo.find(query, { sort: NEWEST_FIRST, offset: this.opts.keepPerUser, limit: Math.min(BATCH, over) });
			if (extra.length === 0) return removed;
			const n = await this.repo.removeWhere({ id: { $in: extra.map(e => e.id) }, ...NOTHING_STAGED });
			removed += n;
			over -= extra.length;
			// A notification still staged stays where it is: look again on the next pass.
			if (n < extra.length) {
				this.touched.add(userId);
				return removed;
			}
		}
		if (over > 0) this.touched.add(userId);
		return removed;
	}

	/** Removes notifications whose event is older than `maxAgeMs`, and the orders' seller lines recorded before then. */
	private async expireOld(): Promise<number> {
		const cutoff = new Date(this.now() - this.opts.maxAgeMs).toISOString();
		if (this.splits) await removeMatching(this.splits, { created_at: { $lt: cutoff } }, BATCH, MAX_AGE_BATCHES);
		return removeMatching(this.repo, { occurred_at: { $lt: cutoff }, ...NOTHING_STAGED }, BATCH, MAX_AGE_BATCHES);
	}
}
