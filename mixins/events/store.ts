/**
 * The event layer's own collections for one service: outbox, processed event ids and dead letters. They live
 * beside the service's DbMixin collections (same store: NeDB files under DATA_DIR, memory in tests, or MongoDB),
 * named `<service>.events_*`, and are managed here so that a service needs no DbMixin to publish or consume.
 * With a memory store the claims are kept in a map instead of `events_processed` (claims.ts). Sent outbox rows and
 * processed ids are removed after their retention by retention.ts.
 */
import type { ServiceBroker, Logger } from "moleculer";
import { closeAdapter, connectAdapter, DuplicateKeyError, openAdapter, Repository, type StoreAdapter } from "../db.mixin";
import type { Config } from "../../config/env";
import { createKeyValueStore, type KeyValueStore } from "../kv/store";
import { MemoryClaims, type ClaimResult } from "./consumer/claims";
import { CLAIM_STALE_MS, type EventMessage, type EventMeta } from "./policy";

/** An outbox row: the message plus its relay status; `sent_at` is null exactly while it is pending. */
export interface OutboxRow extends Omit<EventMessage, "event_id"> {
	id: string;
	status: "pending" | "sent";
	sent_at: string | null;
}

/** A consumer's claim on an event: "processing" while its handler runs, "done" afterwards. */
export interface ProcessedRow {
	id: string;
	status: "processing" | "done";
	/** Epoch ms of the claim (renewed by a takeover); the dedupe window and pruning count from it. */
	claimed_at: number;
	processed_at: string | null;
	/** The process run that holds a "processing" claim (RUN_ID). */
	run?: string;
}

/** This process's run: claims it holds carry it, so a restarted embedded shop knows the earlier run's are dead. */
const RUN_ID = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export interface DeadLetter {
	id: string;
	service: string;
	consumer: string;
	node_id: string;
	event_id: string;
	event_name: string;
	source: string;
	event: Record<string, unknown>;
	meta: EventMeta;
	error: string;
	/** Why: HANDLER_FAILED after the retries, or at once SCHEMA_INVALID / SIGNATURE_INVALID (never applied). Absent in older rows. */
	reason?: "HANDLER_FAILED" | "SCHEMA_INVALID" | "SIGNATURE_INVALID";
	/** The rest of the envelope, so that a redrive checks it again. */
	version?: number;
	trace_id?: string | null;
	signature?: string | null;
	attempts: number;
	status: "dead" | "redriven";
	failed_at: string;
	redriven_at: string | null;
}

export type { ClaimResult };

type AdapterLike = StoreAdapter;

/** How long Redis remembers a processed event id (the collection keeps it for the dedupe window). */
const PROCESSED_TTL_MS = 7 * 24 * 3600_000;

/** The outbox, processed ids and dead letters of one service. */
export class EventStore {
	private readonly adapters: AdapterLike[] = [];
	/** With REDIS_URL, claims live in Redis too, so replicas that do not share a database still run an event once. */
	private readonly kv: KeyValueStore | null;
	/** Claims of a memory store, in a map instead of the `events_processed` collection (see claims.ts). */
	private readonly memoryClaims: MemoryClaims | null;
	readonly outbox: Repository<OutboxRow>;
	readonly processed: Repository<ProcessedRow>;
	readonly deadLetters: Repository<DeadLetter>;

	constructor(
		broker: ServiceBroker,
		logger: Logger,
		private readonly config: Config,
		service: string,
	) {
		const repo = <T extends { id: string }>(coll: string): Repository<T> => {
			const adapter = openAdapter(broker, logger, config, service, coll);
			this.adapters.push(adapter);
			return new Repository<T>(coll, adapter);
		};
		this.outbox = repo<OutboxRow>("events_outbox");
		this.processed = repo<ProcessedRow>("events_processed");
		this.deadLetters = repo<DeadLetter>("events_dead_letters");
		this.kv = config.redisUrl ? createKeyValueStore(config.redisUrl, `${config.namespace}:events:`) : null;
		this.memoryClaims = config.mongoUrl || config.dataDir ? null : new MemoryClaims();
	}

	/**
	 * Connects the collections. The outbox is indexed by `sent_at` (pending rows share the null key, sent rows are
	 * spread over their send times) and processed ids by `claimed_at`: both serve the pruning range queries and
	 * keep NeDB's index buckets small. A `status` index on the outbox would put every sent row in one bucket,
	 * which NeDB scans on each removal from it, so the one earlier versions created is dropped.
	 */
	async open(): Promise<void> {
		const [outbox, processed, deadLetters] = this.adapters;
		await connectAdapter(outbox, this.config, [{ fields: ["sent_at"] }]);
		await dropNeDbIndex(outbox, "status");
		await connectAdapter(processed, this.config, [{ fields: ["claimed_at"] }]);
		await connectAdapter(deadLetters, this.config, [{ fields: ["status"] }]);
	}

	async close(): Promise<void> {
		await this.kv?.close();
		for (const a of this.adapters) await closeAdapter(a);
	}

	/** Stores a message as pending; storing the same event twice is a no-op. */
	async addToOutbox(msg: EventMessage): Promise<void> {
		const { event_id, ...rest } = msg;
		try {
			await this.outbox.insert({ ...rest, id: event_id, status: "pending", sent_at: null });
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
	}

	/** Pending outbox rows, oldest first, created before `before` (ISO time). */
	async pending(limit: number, before?: string): Promise<EventMessage[]> {
		const query = before ? { sent_at: null, created_at: { $lt: before } } : { sent_at: null };
		const rows = await this.outbox.find(query, { sort: ["created_at"], limit });
		return rows.map(({ id, status: _s, sent_at: _t, ...rest }) => ({ ...rest, event_id: id }));
	}

	async markSent(eventId: string): Promise<void> {
		await this.outbox.updateWhere({ id: eventId }, { $set: { status: "sent", sent_at: new Date().toISOString() } });
	}

	/**
	 * Claims an event for a consumer: "claimed" (run the handler), "done" (already processed: skip) or "busy"
	 * (another delivery of it is running now: try later). A stale claim is taken over.
	 */
	async claim(key: string, now = Date.now()): Promise<ClaimResult> {
		if (!this.kv) return this.claimInDb(key, now);
		if (!(await this.kv.setIfAbsent(key, "processing", CLAIM_STALE_MS))) return (await this.kv.get(key)) === "done" ? "done" : "busy";
		const res = await this.claimInDb(key, now);
		if (res === "done") await this.kv.set(key, "done", this.config.isTest ? 3600_000 : PROCESSED_TTL_MS);
		else if (res === "busy") await this.kv.del(key);
		return res;
	}

	private async claimInDb(key: string, now: number): Promise<ClaimResult> {
		if (this.memoryClaims) return this.memoryClaims.claim(key, now);
		try {
			await this.processed.insert({ id: key, status: "processing", claimed_at: now, processed_at: null, run: RUN_ID });
			return "claimed";
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
		const row = await this.processed.findById(key);
		if (!row) return this.claimInDb(key, now);
		if (row.status === "done") return "done";
		// Without a transporter one process owns the files: a claim of an earlier run belongs to a process that died.
		const deadRun = !this.config.natsUrl && row.run !== RUN_ID;
		if (!deadRun && now - row.claimed_at < CLAIM_STALE_MS) return "busy";
		const n = await this.processed.updateWhere({ id: key, status: "processing", claimed_at: row.claimed_at }, { $set: { claimed_at: now, run: RUN_ID } });
		return n === 1 ? "claimed" : "busy";
	}

	/**
	 * Marks a claim done: the store first, then Redis. A crash between the two leaves Redis "processing" for at most
	 * CLAIM_STALE_MS, after which the next delivery finds "done" in the store; the other order could leave the
	 * store's claim "processing" for good behind a "done" in Redis.
	 */
	async markDone(key: string): Promise<void> {
		if (this.memoryClaims) this.memoryClaims.markDone(key);
		else await this.processed.updateWhere({ id: key }, { $set: { status: "done", processed_at: new Date().toISOString() } });
		await this.kv?.set(key, "done", this.config.isTest ? 3600_000 : PROCESSED_TTL_MS);
	}

	/** Gives a claim up after a failed attempt, so that the next delivery may run the handler. */
	async release(key: string): Promise<void> {
		if (this.kv && (await this.kv.get(key)) === "processing") await this.kv.del(key);
		if (this.memoryClaims) this.memoryClaims.release(key);
		else await this.processed.removeWhere({ id: key, status: "processing" });
	}

	/**
	 * Dead letters waiting and outbox rows not yet relayed, both answered from an index. Read every few seconds
	 * for the gauges, so nothing here may scan a whole collection (processed ids are not counted: with no index
	 * on their status that was a full scan of every claim, and it slowed checkout down as the ids piled up).
	 */
	async counts(): Promise<{ dead_letters: number; pending_outbox: number }> {
		const [dead_letters, pending_outbox] = await Promise.all([this.deadLetters.count({ status: "dead" }), this.outbox.count({ sent_at: null })]);
		return { dead_letters, pending_outbox };
	}

	/** Processed ids kept now (a full scan with a durable store: for tests and operators, not for gauges). */
	async processedCount(): Promise<number> {
		return this.memoryClaims ? this.memoryClaims.doneCount() : this.processed.count({ status: "done" });
	}

	/** Removes up to `limit` outbox rows sent more than `retentionMs` ago; pending rows are never matched. */
	async pruneSent(retentionMs: number, limit: number, now = Date.now()): Promise<number> {
		const sentBefore = { $gte: "", $lt: new Date(now - retentionMs).toISOString() };
		const rows = await this.outbox.find({ sent_at: sentBefore }, { limit });
		if (rows.length === 0) return 0;
		return this.outbox.removeWhere({ id: { $in: rows.map(r => r.id) }, sent_at: sentBefore });
	}

	/**
	 * Removes up to `limit` processed ids claimed more than `windowMs` ago, done or not. A claim still
	 * "processing" is never removed before it is stale (CLAIM_STALE_MS), so a takeover works as before; once it
	 * is older than the dedupe window, removing it gives the next delivery the same fresh claim a takeover would.
	 */
	async pruneProcessed(windowMs: number, limit: number, now = Date.now()): Promise<number> {
		const before = now - Math.max(windowMs, CLAIM_STALE_MS);
		if (this.memoryClaims) return this.memoryClaims.prune(before, limit);
		const claimedBefore = { $lt: before };
		const rows = await this.processed.find({ claimed_at: claimedBefore }, { limit });
		if (rows.length === 0) return 0;
		return this.processed.removeWhere({ id: { $in: rows.map(r => r.id) }, claimed_at: claimedBefore });
	}
}

/** Drops an index an earlier version created, on NeDB (which persists index definitions in its files). */
async function dropNeDbIndex(adapter: StoreAdapter, field: string): Promise<void> {
	const db = adapter.db as { indexes?: Record<string, unknown>; removeIndexAsync?(fieldName: string): Promise<void> } | undefined;
	if (db?.indexes?.[field] && db.removeIndexAsync) await db.removeIndexAsync(field);
}
