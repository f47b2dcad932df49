/**
 * The publishing side of one service instance's durable events: a published event is stored in the outbox, then
 * handed to the bus; events staged in a service's own documents are handed over and pulled from them; what the
 * bus did not take (a crash, a refusal) is relayed again from the outbox and swept from the documents later.
 */
import type { Logger, Service, ServiceBroker } from "moleculer";
import { announcePublished } from "../../../services/common/published";
import type { EventBus } from "../buses/bus";
import type { IndexSpec } from "../../db.mixin";
import { errorText, type EventMessage } from "../policy";
import type { EventStore } from "../store";
import type { EnvelopeKeys } from "../envelope";

/** Name of the document field where a service embeds staged events (see `stageEvent`). */
export const STAGED_EVENTS_FIELD = "pending_events";

/** Documents per sweep query, and how long one sweep of one collection may go on working through a backlog. */
const SWEEP_BATCH = 100;
const SWEEP_BUDGET_MS = 100;

export type StagedCollection = {
	find(q: object, o: object): Promise<Array<{ id: string; pending_events?: EventMessage[] }>>;
	count(q: object): Promise<number>;
	updateWhere(q: object, u: object): Promise<number>;
	ensureIndex(spec: IndexSpec): Promise<void>;
};

/** The indexed path of staged event ids in a document. */
const STAGED_ID_PATH = `${STAGED_EVENTS_FIELD}.event_id`;

export interface RelayOptions {
	/** Collections (of the service's DbMixin) whose documents may hold staged events in `pending_events`. */
	stagedIn: string[];
	/** Whether the instance is stopping (a sweep then ends early). */
	stopping(): boolean;
	/** Seals what an earlier version stored without an envelope. */
	keys: EnvelopeKeys;
}

export class EventRelay {
	/** The bus while the instance runs (set by the runtime). */
	bus: EventBus | null = null;
	/** Test hook: stores events in the outbox without relaying them, as a crash right after the write would. */
	relayPaused = false;
	/** When this instance started: staged events older than that belong to an earlier run. */
	startedAt = 0;
	/** Staged collections whose sparse index on staged event ids exists. */
	private readonly indexed = new Set<string>();
	/** The sweep running now, if any. */
	private sweeping: Promise<void> | null = null;
	/** Background writes waiting for the in-process bus's consumers (see onceConsumed). */
	private readonly settling = new Set<Promise<void>>();
	private readonly broker: ServiceBroker;
	private readonly logger: Logger;

	constructor(
		private readonly service: Service,
		private readonly store: EventStore,
		private readonly opts: RelayOptions,
	) {
		this.broker = service.broker;
		this.logger = service.logger;
	}

	/** Waits (at most `maxMs`) for the writes of what the consumers took by now; the rest stays for the next start. */
	async settle(maxMs: number): Promise<void> {
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([Promise.allSettled([...this.settling]), new Promise(r => (timer = setTimeout(r, maxMs)))]);
		clearTimeout(timer);
	}

	/** Stores the message in the outbox, then hands it to the bus; a failed hand-over is retried by the relay. */
	async publish(message: EventMessage): Promise<void> {
		await this.store.addToOutbox(message);
		if (!this.relayPaused) await this.relayOne(message);
	}

	/**
	 * Hands one event to the bus and, once the bus took it, announces it to this node's observers (business
	 * metrics): the one place where a published event is observed, so each is observed once (again only when the
	 * bus takes it a second time, after a crash or a failed write of its sent mark).
	 */
	private async handOver(bus: EventBus, stored: EventMessage): Promise<void> {
		const message = this.opts.keys.sealLegacy(stored);
		await bus.publish(message);
		try {
			announcePublished(this.broker, { name: message.name, source: message.source, event_id: message.event_id, payload: message.event });
		} catch (err) {
			this.logger.debug(`event observers failed: ${errorText(err)}`);
		}
	}

	/**
	 * Publishes the staged events of a document, then removes them from it. The document is their durable record
	 * (they were stored in the same write as the change they report), so they need no outbox row: one the bus
	 * did not take stays staged and the sweep publishes it again (consumers drop duplicates by event id). This
	 * saves two writes per event on the checkout path.
	 */
	async publishStaged(coll: StagedCollection, docId: string, messages: EventMessage[]): Promise<boolean> {
		if (messages.length === 0) return true;
		const bus = this.bus;
		if (this.relayPaused || !bus) return false;
		const sent: string[] = [];
		for (const m of messages) {
			try {
				await this.handOver(bus, m);
				sent.push(m.event_id);
			} catch (err) {
				this.logger.warn(`event ${m.name} ${m.event_id} not relayed yet (stays staged): ${errorText(err)}`);
				break;
			}
		}
		const pull = (ids: string[]) => coll.updateWhere({ id: docId }, { $pull: { [STAGED_EVENTS_FIELD]: { event_id: { $in: ids } } } });
		if (sent.length > 0) await this.onceConsumed(sent, pull);
		return sent.length === messages.length;
	}

	/**
	 * Runs `write` (pull the staged copies, mark the outbox row sent) for the events the bus holds for good: at once
	 * for JetStream; for the in-process bus, in the background once every durable group has taken them, so that
	 * a crash before that leaves them to be sent again at the restart.
	 */
	private async onceConsumed(ids: string[], write: (ids: string[]) => Promise<unknown>): Promise<void> {
		const bus = this.bus;
		if (!bus?.whenConsumed) {
			await write(ids);
			return;
		}
		const p = Promise.all(ids.map(id => bus.whenConsumed!(id)))
			.then(async oks => {
				const done = ids.filter((_, i) => oks[i]);
				if (done.length > 0) await write(done);
			})
			.catch(err => this.logger.warn(`events ${ids.join(",")} consumed but not marked: ${errorText(err)} (sent again later)`))
			.finally(() => this.settling.delete(p));
		this.settling.add(p);
	}

	/** Whether the bus still carries this event to some consumer (the relay and the sweep leave it alone). */
	private inFlight(eventId: string): boolean {
		return this.bus?.inFlight?.(eventId) ?? false;
	}

	private async relayOne(message: EventMessage): Promise<boolean> {
		const bus = this.bus;
		if (!bus) return false;
		if (this.inFlight(message.event_id)) return true;
		try {
			await this.handOver(bus, message);
			await this.onceConsumed([message.event_id], () => this.store.markSent(message.event_id));
			return true;
		} catch (err) {
			this.logger.warn(`event ${message.name} ${message.event_id} not relayed yet: ${errorText(err)}`);
			return false;
		}
	}

	/** Relays pending outbox rows (all of them, or those older than a moment when `olderThanMs` is given). */
	async relayPending(olderThanMs?: number): Promise<number> {
		let sent = 0;
		const before = olderThanMs === undefined ? undefined : new Date(Date.now() - olderThanMs).toISOString();
		for (;;) {
			const rows = await this.store.pending(100, before);
			let progress = 0;
			for (const row of rows) if (await this.relayOne(row)) progress++;
			sent += progress;
			if (rows.length < 100 || progress === 0) return sent;
		}
	}

	/**
	 * Staged events still in their document after the grace period (their publisher stopped between its write and
	 * `publishStaged`, or the bus refused them) are published now. A sparse index on the staged event ids keeps
	 * this query to the documents that hold some, however large the collection grows. One sweep at a time: a second
	 * call waits for the running one and then looks again, so two sweeps never publish the same document twice.
	 */
	async sweepStaged(graceMs: number): Promise<void> {
		while (this.sweeping) await this.sweeping.catch(() => undefined);
		const run = this.sweepOnce(graceMs);
		this.sweeping = run;
		try {
			await run;
		} finally {
			if (this.sweeping === run) this.sweeping = null;
		}
	}

	private async sweepOnce(graceMs: number): Promise<void> {
		const svc = this.openCollections();
		if (!svc) return;
		// Whatever was staged before this process started is nobody's in flight: it goes at once, whatever the grace.
		const cutoff = new Date(Math.max(Date.now() - graceMs, this.startedAt)).toISOString();
		for (const name of this.opts.stagedIn) {
			const coll = svc.collection(name);
			if (!this.indexed.has(name)) {
				await coll.ensureIndex({ fields: [STAGED_ID_PATH], sparse: true });
				this.indexed.add(name);
			}
			// Only documents holding an event older than the grace (events in flight on the in-process bus are younger).
			const query = { [STAGED_ID_PATH]: { $gt: "" }, [`${STAGED_EVENTS_FIELD}.created_at`]: { $lte: cutoff } };
			// A backlog (a restart after a crash under load) is worked through in batches, within a time budget per tick;
			// documents whose events are on their way stay where they are until consumed, so the next batch skips them.
			const until = Date.now() + SWEEP_BUDGET_MS;
			for (let offset = 0; ; ) {
				const rows = await coll.find(query, { limit: SWEEP_BATCH, offset });
				// NeDB returns a document once per staged id it holds (a multikey index): once each is enough.
				const docs = new Map(rows.map(d => [d.id, d]));
				let published = 0;
				for (const doc of docs.values()) {
					const old = (doc[STAGED_EVENTS_FIELD] ?? []).filter(m => m.created_at <= cutoff && !this.inFlight(m.event_id));
					if (old.length === 0) continue;
					// The bus refuses now: try again at the next tick rather than wait on it once per document.
					if (!(await this.publishStaged(coll, doc.id, old))) return;
					published++;
				}
				if (rows.length < SWEEP_BATCH || Date.now() > until || this.opts.stopping()) break;
				if (!this.bus?.whenConsumed && published === 0) break;
				// With a bus that pulls staged copies at once (JetStream), the published documents left the query.
				if (!this.bus?.whenConsumed) continue;
				offset += rows.length;
			}
		}
	}

	/**
	 * The service with its collections, or null while they are not open: the relay starts in the events mixin's
	 * `started`, and its first ticks can come before DbMixin has connected a NeDB file or MongoDB.
	 */
	private openCollections(): { collection(name: string): StagedCollection } | null {
		const svc = this.service as Service & { collection?(name: string): StagedCollection; collectionsOpen?(): boolean };
		if (!svc.collection || svc.collectionsOpen?.() === false) return null;
		return svc as { collection(name: string): StagedCollection };
	}

	/** Documents whose staged events are not published yet, over every `stagedIn` collection (read from the sparse index). */
	async stagedBacklog(): Promise<number> {
		const svc = this.openCollections();
		if (!svc) return 0;
		let n = 0;
		for (const name of this.opts.stagedIn) if (this.indexed.has(name)) n += await svc.collection(name).count({ [STAGED_ID_PATH]: { $gt: "" } });
		return n;
	}
}
