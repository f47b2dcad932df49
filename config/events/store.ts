/**
 * The event layer's own collections for one service: outbox, processed event ids and dead letters. They live
 * beside the service's DbMixin collections (same store: NeDB files under DATA_DIR, memory in tests, or MongoDB),
 * named `<service>.events_*`, and are managed here so that a service needs no DbMixin to publish or consume.
 */
import type { ServiceBroker, Logger } from "moleculer";
import { closeAdapter, connectAdapter, DuplicateKeyError, openAdapter, Repository, type StoreAdapter } from "../../mixins/db.mixin";
import type { Config } from "../env";
import { createKeyValueStore, type KeyValueStore } from "../kv";
import type { EventMessage, EventMeta } from "./policy";

/** An outbox row: the message plus its relay status. */
export interface OutboxRow extends Omit<EventMessage, "event_id"> {
	id: string;
	status: "pending" | "sent";
	sent_at: string | null;
}

/** A consumer's claim on an event: "processing" while its handler runs, "done" afterwards. */
export interface ProcessedRow {
	id: string;
	status: "processing" | "done";
	claimed_at: number;
	processed_at: string | null;
}

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
	attempts: number;
	status: "dead" | "redriven";
	failed_at: string;
	redriven_at: string | null;
}

export type ClaimResult = "claimed" | "done" | "busy";

type AdapterLike = StoreAdapter;

/** A claim older than this is taken over: its holder crashed or stopped mid-handler. */
const CLAIM_STALE_MS = 60_000;
/** How long Redis remembers a processed event id (the collection keeps it until pruned). */
const PROCESSED_TTL_MS = 7 * 24 * 3600_000;

/** The outbox, processed ids and dead letters of one service. */
export class EventStore {
	private readonly adapters: AdapterLike[] = [];
	/** With REDIS_URL, claims live in Redis too, so replicas that do not share a database still run an event once. */
	private readonly kv: KeyValueStore | null;
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
	}

	async open(): Promise<void> {
		const [outbox, processed, deadLetters] = this.adapters;
		await connectAdapter(outbox, this.config, [{ fields: ["status"] }]);
		await connectAdapter(processed, this.config);
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
		const query = before ? { status: "pending", created_at: { $lt: before } } : { status: "pending" };
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
		try {
			await this.processed.insert({ id: key, status: "processing", claimed_at: now, processed_at: null });
			return "claimed";
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
		const row = await this.processed.findById(key);
		if (!row) return this.claimInDb(key, now);
		if (row.status === "done") return "done";
		if (now - row.claimed_at < CLAIM_STALE_MS) return "busy";
		const n = await this.processed.updateWhere({ id: key, status: "processing", claimed_at: row.claimed_at }, { $set: { claimed_at: now } });
		return n === 1 ? "claimed" : "busy";
	}

	async markDone(key: string): Promise<void> {
		await this.kv?.set(key, "done", this.config.isTest ? 3600_000 : PROCESSED_TTL_MS);
		await this.processed.updateWhere({ id: key }, { $set: { status: "done", processed_at: new Date().toISOString() } });
	}

	/** Gives a claim up after a failed attempt, so that the next delivery may run the handler. */
	async release(key: string): Promise<void> {
		if (this.kv && (await this.kv.get(key)) === "processing") await this.kv.del(key);
		await this.processed.removeWhere({ id: key, status: "processing" });
	}

	/**
	 * Dead letters waiting and outbox rows not yet relayed, both answered from their `status` index. Read every
	 * few seconds for the gauges, so nothing here may scan a whole collection (processed ids are not counted:
	 * with no index on their status that was a full scan, and it slowed checkout down as the ids piled up).
	 */
	async counts(): Promise<{ dead_letters: number; pending_outbox: number }> {
		const [dead_letters, pending_outbox] = await Promise.all([this.deadLetters.count({ status: "dead" }), this.outbox.count({ status: "pending" })]);
		return { dead_letters, pending_outbox };
	}

	/** Drops sent outbox rows and processed ids older than the given ages. */
	async prune(sentMaxAgeMs: number, processedMaxAgeMs: number): Promise<void> {
		const now = Date.now();
		await this.outbox.removeWhere({ status: "sent", sent_at: { $lt: new Date(now - sentMaxAgeMs).toISOString() } });
		await this.processed.removeWhere({ status: "done", processed_at: { $lt: new Date(now - processedMaxAgeMs).toISOString() } });
	}
}
