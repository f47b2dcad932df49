/**
 * Background work done in passes on a timer (retention of event bookkeeping, of notifications): one pass at a
 * time (`runOnce` joins the pass in progress), a failed pass is logged and the next one runs on time, and `stop`
 * clears the timer and waits for the pass in progress, so that the store can be closed after it.
 */
import type { Logger } from "moleculer";

export abstract class BackgroundPass<R> {
	private timer: NodeJS.Timeout | null = null;
	private running: Promise<R> | null = null;

	constructor(
		protected readonly logger: Logger,
		/** Names the work in the warning of a failed pass. */
		private readonly label: string,
	) {}

	/** Whether the timer runs. */
	get active(): boolean {
		return this.timer !== null;
	}

	/** Runs a pass every `intervalMs` until `stop` (a second call does nothing). */
	protected startEvery(intervalMs: number): void {
		if (this.timer) return;
		this.timer = setInterval(() => {
			this.runOnce().catch(err => this.logger.warn(`${this.label}: ${err instanceof Error ? err.message : String(err)}`));
		}, intervalMs);
		this.timer.unref();
	}

	/** Clears the timer and waits for a pass in progress. */
	async stop(): Promise<void> {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
		await this.running?.catch(() => undefined);
	}

	/** One pass (or the one already running). */
	runOnce(): Promise<R> {
		this.running ??= this.pass().finally(() => {
			this.running = null;
		});
		return this.running;
	}

	protected abstract pass(): Promise<R>;
}

/** Runs `batch(size)` until it handles less than a full batch or `maxBatches` ran; returns the total handled. */
export async function drain(batch: (limit: number) => Promise<number>, size: number, maxBatches: number): Promise<number> {
	let total = 0;
	for (let i = 0; i < maxBatches; i++) {
		const n = await batch(size);
		total += n;
		if (n < size) break;
	}
	return total;
}

/** What `removeMatching` needs of a collection (a db.mixin Repository). */
export interface RemovableCollection {
	find(query: Record<string, unknown>, opts: { limit: number }): Promise<Array<{ id: string }>>;
	removeWhere(query: Record<string, unknown>): Promise<number>;
}

/**
 * Removes the documents that match `query`, `size` at a time and at most `maxBatches` batches (each removal
 * checks the query again, so a document that changed meanwhile stays); returns how many went.
 */
export function removeMatching(repo: RemovableCollection, query: Record<string, unknown>, size: number, maxBatches: number): Promise<number> {
	return drain(
		async limit => {
			const rows = await repo.find(query, { limit });
			return rows.length === 0 ? 0 : repo.removeWhere({ id: { $in: rows.map(r => r.id) }, ...query });
		},
		size,
		maxBatches,
	);
}
