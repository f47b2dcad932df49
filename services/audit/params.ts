/**
 * The params of the audit actions (fastest-validator schemas beside their types) and the entry as the API answers it.
 */
import { pagingParams } from "../common/paging";
import type { AuditActor } from "../common/audit";
import type { AuditEntry } from "./chain";

const ID = { type: "string", min: 1, max: 200 } as const;
const JSON_TEXT = { type: "string", max: 1_000_000, nullable: true } as const;

export const beginParams = {
	intent_id: ID,
	actor: {
		type: "object",
		props: { id: ID, email: { type: "string", max: 320, nullable: true }, role: { type: "string", min: 1, max: 40 } },
	},
	action: { type: "string", min: 1, max: 200 },
	entity: { type: "string", min: 1, max: 100 },
	entity_id: { ...ID, nullable: true },
	before: JSON_TEXT,
	trace_id: { type: "string", max: 200, nullable: true },
	read: {
		type: "object",
		nullable: true,
		props: { action: { type: "string", min: 1, max: 200 }, params: { type: "record", key: { type: "string" }, value: { type: "string", max: 200 } } },
	},
} as const;

export const commitParams = {
	intent_id: ID,
	entity_id: { ...ID, nullable: true },
	after: JSON_TEXT,
} as const;

export interface ListParams {
	actor?: string;
	entity?: string;
	entity_id?: string;
	action?: string;
	page: number;
	page_size: number;
}

const FILTER = { type: "string", min: 1, max: 200, trim: true, optional: true } as const;

export const listParams = {
	actor: FILTER,
	entity: FILTER,
	entity_id: FILTER,
	action: FILTER,
	...pagingParams,
} as const;

export interface SweepParams {
	older_than_ms?: number;
}

export const sweepParams = {
	older_than_ms: { type: "number", integer: true, min: 0, max: 30 * 24 * 3600 * 1000, optional: true, convert: true },
} as const;

/** An entry as `GET /admin/audit` answers it: `before` and `after` as values again. */
export interface ApiAuditEntry {
	id: string;
	seq: number;
	at: string;
	actor: AuditActor;
	action: string;
	entity: string;
	entity_id: string | null;
	before: unknown;
	after: unknown;
	trace_id: string | null;
	recovered: boolean;
	prev_hash: string;
	hash: string;
}

/** Parses stored JSON text; text that is not JSON (an edited entry) is answered as it is. */
function parsed(text: string | null): unknown {
	if (text === null) return null;
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

/** The stored entry as the API answers it. */
export function toApiEntry(e: AuditEntry): ApiAuditEntry {
	return {
		id: e.id,
		seq: e.seq,
		at: e.at,
		actor: e.actor,
		action: e.action,
		entity: e.entity,
		entity_id: e.entity_id,
		before: parsed(e.before),
		after: parsed(e.after),
		trace_id: e.trace_id,
		recovered: e.recovered,
		prev_hash: e.prev_hash,
		hash: e.hash,
	};
}
