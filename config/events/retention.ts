/**
 * Retention of one service's event bookkeeping: sent outbox rows are removed `outboxRetentionMs` after they were
 * sent, processed event ids `dedupeWindowMs` after their claim (see config/env.ts for why the window is safe).
 * Pending outbox rows are never removed. Work is done in bounded batches on a timer that `stop` clears, so a
 * backlog (a first start on old data) is worked off over several passes instead of blocking the event loop.
 */
import type { Logger } from "moleculer";
import type { RetentionSettings } from "../env";
import { errorText } from "./policy";
import type { EventStore } from "./store";

/** Rows removed by one pass. */
export interface PruneResult {
	sent: number;
	processed: number;
}

export type RetentionStore = Pick<EventStore, "pruneSent" | "pruneProcessed">;
export type EventsRetentionSettings = Pick<RetentionSettings, "outboxRetentionMs" | "dedupeWindowMs" | "pruneIntervalMs">;

/** Rows removed by one query. */
const BATCH = 250;
/** Batches of each kind per pass: at the default interval up to 5,000 rows of each kind a second. */
const MAX_BATCHES = 20;

/** Runs `batch` until it removes less than a full batch or MAX_BATCHES ran; returns the rows removed. */
async function drain(batch: (limit: number) => Promise<number>): Promise<number> {
	let total = 0;
	for (let i = 0; i < MAX_BATCHES; i++) {
		const n = await batch(BATCH);
		total += n;
		if (n < BATCH) break;
	}
	return total;
}

/** The pruning timer of one service's event store. */
export class EventsRetention {
	private timer: NodeJS.Timeout | null = null;
	private running: Promise<PruneResult> | null = null;

	constructor(
		private readonly store: RetentionStore,
		private readonly settings: EventsRetentionSettings,
		private readonly logger: Logger,
		/** The clock (tests move it forward instead of waiting). */
		private readonly now: () => number = Date.now,
	) {}

	/** Whether the timer runs. */
	get active(): boolean {
		return this.timer !== null;
	}

	/** Prunes every `pruneIntervalMs` until `stop`. */
	start(): void {
		if (this.timer) return;
		this.timer = setInterval(() => {
			this.runOnce().catch(err => this.logger.warn(`event retention: ${errorText(err)}`));
		}, this.settings.pruneIntervalMs);
		this.timer.unref();
	}

	/** Clears the timer and waits for a pass in progress, so that the store can be closed after it. */
	async stop(): Promise<void> {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
		await this.running?.catch(() => undefined);
	}

	/** One pass (or the one already running): sent outbox rows first, then processed ids. */
	runOnce(): Promise<PruneResult> {
		this.running ??= this.pass().finally(() => {
			this.running = null;
		});
		return this.running;
	}

	private async pass(): Promise<PruneResult> {
		const now = this.now();
		const sent = await drain(limit => this.store.pruneSent(this.settings.outboxRetentionMs, limit, now));
		const processed = await drain(limit => this.store.pruneProcessed(this.settings.dedupeWindowMs, limit, now));
		return { sent, processed };
	}
}
