/**
 * Retention of one service's event bookkeeping: sent outbox rows are removed `outboxRetentionMs` after they were
 * sent, processed event ids `dedupeWindowMs` after their claim (see config/env.ts for why the window is safe).
 * Pending outbox rows are never removed. Work is done in bounded batches on a timer that `stop` clears, so a
 * backlog (a first start on old data) is worked off over several passes instead of blocking the event loop.
 */
import type { Logger } from "moleculer";
import type { RetentionSettings } from "../../config/env";
import { BackgroundPass, drain } from "../db/background-pass";
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

/** The pruning timer of one service's event store. */
export class EventsRetention extends BackgroundPass<PruneResult> {
	constructor(
		private readonly store: RetentionStore,
		private readonly settings: EventsRetentionSettings,
		logger: Logger,
		/** The clock (tests move it forward instead of waiting). */
		private readonly now: () => number = Date.now,
	) {
		super(logger, "event retention");
	}

	/** Prunes every `pruneIntervalMs` until `stop`. */
	start(): void {
		this.startEvery(this.settings.pruneIntervalMs);
	}

	/** Sent outbox rows first, then processed ids. */
	protected async pass(): Promise<PruneResult> {
		const now = this.now();
		const sent = await drain(limit => this.store.pruneSent(this.settings.outboxRetentionMs, limit, now), BATCH, MAX_BATCHES);
		const processed = await drain(limit => this.store.pruneProcessed(this.settings.dedupeWindowMs, limit, now), BATCH, MAX_BATCHES);
		return { sent, processed };
	}
}
