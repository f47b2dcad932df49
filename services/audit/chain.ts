/**
 * The hash chain of the audit log, pure: an entry's hash is SHA-256 over the canonical serialisation of the entry
 * (every field but `hash`, keys sorted at every depth, no spaces), which includes `prev_hash`, the hash of the entry
 * before it; the first entry's `prev_hash` is GENESIS_HASH. `seq` counts from 1 without gaps, so a deleted entry
 * shows as a missing number, an edited one as a hash that no longer matches, and a re-hashed edit as the next
 * entry's `prev_hash` that no longer matches.
 */
import { createHash } from "node:crypto";
import { canonicalJson, type AuditActor } from "../common/audit";

export { canonicalJson };

export const GENESIS_HASH = "0".repeat(64);

/** An entry of the log as stored (`before` and `after` are JSON text, as read around the write). */
export interface AuditEntry {
	id: string;
	seq: number;
	at: string;
	actor: AuditActor;
	action: string;
	entity: string;
	entity_id: string | null;
	before: string | null;
	after: string | null;
	trace_id: string | null;
	/** The intent it completes (one entry per intent). */
	intent_id: string;
	/** True when the audit service completed the intent itself, after the writer did not (a crash). */
	recovered: boolean;
	prev_hash: string;
	hash: string;
}

/** The hash of an entry: SHA-256 (hex) of its canonical serialisation without `hash`. */
export function entryHash(entry: Omit<AuditEntry, "hash"> & { hash?: string }): string {
	const fields: Record<string, unknown> = { ...entry };
	delete fields.hash;
	return createHash("sha256").update(canonicalJson(fields)).digest("hex");
}

/** Seals an entry as the successor of `prev` (null for the first): its `seq`, `prev_hash` and `hash`. */
export function sealEntry(fields: Omit<AuditEntry, "seq" | "prev_hash" | "hash">, prev: Pick<AuditEntry, "seq" | "hash"> | null): AuditEntry {
	const unsealed = { ...fields, seq: (prev?.seq ?? 0) + 1, prev_hash: prev?.hash ?? GENESIS_HASH };
	return { ...unsealed, hash: entryHash(unsealed) };
}

export type BreakReason = "HASH_MISMATCH" | "PREV_HASH_MISMATCH" | "MISSING";

/** The first link of the chain that does not hold. */
export interface BrokenLink {
	seq: number;
	/** The entry at fault; null when it is missing. */
	id: string | null;
	reason: BreakReason;
	message: string;
}

/**
 * Checks entries fed in `seq` order, batch by batch, and keeps the first broken link. `finish(headSeq)` also names
 * entries missing at the end: the highest `seq` ever appended is kept apart (the head) for that.
 */
export class ChainVerifier {
	checked = 0;
	broken: BrokenLink | null = null;
	private expectedSeq = 1;
	private prevHash = GENESIS_HASH;

	/** Checks the next entries; stops looking once a link is broken. */
	feed(entries: AuditEntry[]): void {
		for (const e of entries) {
			if (this.broken) return;
			this.checked++;
			if (e.seq !== this.expectedSeq) {
				this.broken = {
					seq: this.expectedSeq,
					id: null,
					reason: "MISSING",
					message: `entry ${this.expectedSeq} is missing (the next one stored is ${e.seq})`,
				};
			} else if (entryHash(e) !== e.hash) {
				this.broken = { seq: e.seq, id: e.id, reason: "HASH_MISMATCH", message: `entry ${e.seq} was changed after it was written: its hash does not match its content` };
			} else if (e.prev_hash !== this.prevHash) {
				this.broken = {
					seq: e.seq,
					id: e.id,
					reason: "PREV_HASH_MISMATCH",
					message: `entry ${e.seq} does not follow entry ${e.seq - 1}: its prev_hash is not the hash of entry ${e.seq - 1} (entry ${e.seq - 1} was changed and re-hashed)`,
				};
			}
			this.prevHash = e.hash;
			this.expectedSeq++;
		}
	}

	/** Ends the check: entries up to `headSeq` must all have been seen. */
	finish(headSeq: number): BrokenLink | null {
		if (!this.broken && headSeq >= this.expectedSeq)
			this.broken = {
				seq: this.expectedSeq,
				id: null,
				reason: "MISSING",
				message: `entry ${this.expectedSeq} is missing (entries up to ${headSeq} were written)`,
			};
		return this.broken;
	}
}
