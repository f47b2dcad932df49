/**
 * The audit log in its collections: `entries` (the chain; unique `seq` and unique `intent_id`), `intents` (what a
 * write announced before it ran) and `head` (the highest `seq` appended, to see entries deleted at the end).
 *
 * Appends stay linear when several nodes append at once: an entry is sealed on the last entry of the chain and
 * inserted with the next `seq`; the unique index refuses the loser of a race, which reads the new end and tries
 * again. One node also queues its own appends, so that its callers do not race each other.
 */
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { uuid } from "../common/ids";
import { ChainVerifier, sealEntry, type AuditEntry, type BrokenLink } from "./chain";
import type { AuditBeginParams } from "../common/audit";

export const HEAD_ID = "head";
const APPEND_ATTEMPTS = 100;
const VERIFY_BATCH = 500;

export interface IntentDoc extends Omit<AuditBeginParams, "intent_id"> {
	id: string;
	created_at: string;
}

export interface HeadDoc {
	id: string;
	seq: number;
	hash: string;
}

export interface VerifyResult {
	ok: boolean;
	/** Entries checked (up to the first broken link). */
	checked: number;
	/** The highest `seq` appended. */
	head_seq: number;
	broken: BrokenLink | null;
}

const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

export class AuditStore {
	private queue: Promise<unknown> = Promise.resolve();

	constructor(
		readonly entries: Repository<AuditEntry>,
		readonly intents: Repository<IntentDoc>,
		readonly head: Repository<HeadDoc>,
	) {}

	/** Stores an intent (once: a retried call finds it stored); answers its id. */
	async begin(params: AuditBeginParams): Promise<string> {
		const { intent_id, ...fields } = params;
		try {
			await this.intents.insert({ id: intent_id, ...fields, created_at: new Date().toISOString() });
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
		return intent_id;
	}

	/**
	 * Appends the entry of an intent (once: a second call answers the first entry) and drops the intent.
	 * `recovered` marks an entry the audit service completed itself.
	 */
	async complete(intent: IntentDoc, entityId: string | null, after: string | null, recovered: boolean): Promise<AuditEntry> {
		const entry = await this.append({
			id: uuid(),
			at: new Date().toISOString(),
			actor: intent.actor,
			action: intent.action,
			entity: intent.entity,
			entity_id: entityId ?? intent.entity_id,
			before: intent.before,
			after,
			trace_id: intent.trace_id,
			intent_id: intent.id,
			recovered,
		});
		await this.intents.removeById(intent.id);
		return entry;
	}

	/** Appends in this node's queue (see the file's comment). */
	append(fields: Omit<AuditEntry, "seq" | "prev_hash" | "hash">): Promise<AuditEntry> {
		const run = this.queue.then(() => this.appendNow(fields));
		this.queue = run.catch(() => undefined);
		return run;
	}

	private async appendNow(fields: Omit<AuditEntry, "seq" | "prev_hash" | "hash">): Promise<AuditEntry> {
		for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
			const existing = await this.entries.findOne({ intent_id: fields.intent_id });
			if (existing) return existing;
			const entry = sealEntry(fields, await this.last());
			try {
				await this.entries.insert(entry);
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
				// Another node took this seq (or completed this intent): read the end of the chain again.
				await pause(Math.random() * Math.min(50, 2 + attempt * 2));
				continue;
			}
			await this.raiseHead(entry);
			return entry;
		}
		throw new Error(`audit: no free seq after ${APPEND_ATTEMPTS} attempts`);
	}

	/**
	 * The end of the chain: the head, then the entries after it that a node appended but did not yet (or, after a
	 * crash, never) record in the head, each found by its unique `seq`; so an append costs a few indexed reads
	 * whatever the length of the log. A deleted last entry stays the one to follow (the head keeps its hash), so its
	 * gap stays visible to `verify`.
	 */
	private async last(): Promise<Pick<AuditEntry, "seq" | "hash"> | null> {
		const head = await this.head.findById(HEAD_ID);
		let last: Pick<AuditEntry, "seq" | "hash"> | null = head ? { seq: head.seq, hash: head.hash } : null;
		for (;;) {
			const next = await this.entries.findOne({ seq: (last?.seq ?? 0) + 1 });
			if (!next) return last;
			last = next;
		}
	}

	/** Raises the head to `entry` unless it is already higher. */
	private async raiseHead(entry: AuditEntry): Promise<void> {
		const n = await this.head.updateWhere({ id: HEAD_ID, seq: { $lt: entry.seq } }, { $set: { seq: entry.seq, hash: entry.hash } });
		if (n > 0) return;
		try {
			await this.head.insert({ id: HEAD_ID, seq: entry.seq, hash: entry.hash });
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
	}

	/** Walks the whole chain in `seq` order and names its first broken link. */
	async verify(): Promise<VerifyResult> {
		const verifier = new ChainVerifier();
		const head = await this.head.findById(HEAD_ID);
		let lastSeq = 0;
		for (;;) {
			// Keyset paging on seq: an entry deleted meanwhile cannot shift the pages.
			const batch = await this.entries.find({ seq: { $gt: lastSeq } }, { sort: ["seq"], limit: VERIFY_BATCH });
			if (batch.length === 0) break;
			verifier.feed(batch);
			if (verifier.broken) break;
			lastSeq = batch[batch.length - 1].seq;
		}
		const headSeq = Math.max(head?.seq ?? 0, lastSeq);
		const broken = verifier.finish(headSeq);
		return { ok: broken === null, checked: verifier.checked, head_seq: headSeq, broken };
	}

	/** Intents created before `before` (left by a writer that did not come back). */
	async staleIntents(before: Date, limit: number): Promise<IntentDoc[]> {
		return this.intents.find({ created_at: { $lte: before.toISOString() } }, { sort: ["created_at"], limit });
	}
}
