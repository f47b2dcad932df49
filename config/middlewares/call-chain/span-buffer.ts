/**
 * A bounded in-memory store of recent call records, indexed by trace id: the newest `maxSpans` records of the
 * last `maxAgeMs` milliseconds. Pure code (no moleculer); one per node.
 */
import type { CallRecord } from "../../../services/common/call-chain";

export interface SpanBufferOptions {
	maxSpans?: number;
	maxAgeMs?: number;
	now?: () => number;
}

interface Entry {
	at: number;
	traceId: string;
	record: CallRecord;
}

export class SpanBuffer {
	private readonly maxSpans: number;
	private readonly maxAgeMs: number;
	private readonly now: () => number;
	private queue: Entry[] = [];
	private head = 0;
	private readonly byTrace = new Map<string, CallRecord[]>();

	constructor(opts: SpanBufferOptions = {}) {
		this.maxSpans = opts.maxSpans ?? 10_000;
		this.maxAgeMs = opts.maxAgeMs ?? 5 * 60_000;
		this.now = opts.now ?? Date.now;
	}

	/** Number of records held. */
	get size(): number {
		return this.queue.length - this.head;
	}

	/** Stores a record under its trace id, dropping the oldest ones beyond the bounds. */
	add(traceId: string, record: CallRecord): void {
		this.queue.push({ at: this.now(), traceId, record });
		const list = this.byTrace.get(traceId);
		if (list) list.push(record);
		else this.byTrace.set(traceId, [record]);
		this.evict();
	}

	/** The records of one trace on this node, oldest first. */
	get(traceId: string): CallRecord[] {
		this.evict();
		return [...(this.byTrace.get(traceId) ?? [])];
	}

	private evict(): void {
		const cutoff = this.now() - this.maxAgeMs;
		while (this.size > 0) {
			const oldest = this.queue[this.head];
			if (this.size <= this.maxSpans && oldest.at >= cutoff) break;
			this.head++;
			const list = this.byTrace.get(oldest.traceId);
			// Records of a trace are appended in the same order as the queue, so the oldest is first.
			if (list) {
				list.shift();
				if (list.length === 0) this.byTrace.delete(oldest.traceId);
			}
		}
		if (this.head > 1024 && this.head * 2 > this.queue.length) {
			this.queue = this.queue.slice(this.head);
			this.head = 0;
		}
	}
}
