/**
 * The audit trail as the rest of the code sees it: what an audited action declares (`audit: {...}` beside `params`),
 * the actions of the `audit` service that record it (config/middlewares/audit.ts calls them) and the shapes they take.
 */

/**
 * Declared on an action whose successful calls are audited, e.g.
 * `audit: { entity: "product", id: "id", read: "products.lookup" }`: the middleware reads the entity with `read`
 * before and after the handler, and the `audit` service appends `{actor, action, entity, entity_id, before, after}`.
 */
export interface AuditSpec {
	/** What kind of thing changes: product, stock, payment, shipment, settings, flags, voucher, shop. */
	entity: string;
	/** The param that names the entity (else `fixedId`, else the `id` of the action's answer, for creations). */
	id?: string;
	/** The entity's id when there is one only (settings). */
	fixedId?: string;
	/** An action answering the entity as stored, called before and after the change (404 means absent: null). */
	read?: string;
	/** The param of `read` that takes the entity id (default: the name given by `id`, else none). */
	readParam?: string;
}

/** Who made an audited change: the caller of the action (ctx.meta.user), or the system (sagas, timers). */
export interface AuditActor {
	id: string;
	email: string | null;
	role: string;
}

export const SYSTEM_ACTOR: AuditActor = { id: "system", email: null, role: "system" };

/** The `audit` service's internal actions, in the order a write uses them. */
export const AUDIT_ACTIONS = {
	BEGIN: "audit.begin",
	COMMIT: "audit.commit",
	ABORT: "audit.abort",
} as const;

/** audit.begin: stored before the write runs; a write whose intent cannot be stored does not run. */
export interface AuditBeginParams {
	/** Chosen by the writer, so that a retried begin stores one intent. */
	intent_id: string;
	actor: AuditActor;
	/** The action, e.g. products.update. */
	action: string;
	entity: string;
	entity_id: string | null;
	/** The entity as read before the change, as JSON (null when absent or unread). */
	before: string | null;
	trace_id: string | null;
	/** How the audit service reads the entity again when it resolves an intent left by a crash. */
	read: { action: string; params: Record<string, string> } | null;
}

/** audit.commit: the write succeeded; appends the entry unless one exists for the intent. */
export interface AuditCommitParams {
	intent_id: string;
	entity_id: string | null;
	after: string | null;
}

/** JSON with the keys of every object sorted: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
	if (Array.isArray(value)) return `[${value.map(v => canonicalJson(v === undefined ? null : v)).join(",")}]`;
	const obj = value as Record<string, unknown>;
	const keys = Object.keys(obj)
		.filter(k => obj[k] !== undefined)
		.sort();
	return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}
