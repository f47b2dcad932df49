/**
 * The audit middleware: every successful call of an action that declares `audit` (services/common/audit.ts) leaves
 * an entry in the `audit` service's hash-chained log, with its actor, before and after.
 */
import type { Context, Middleware } from "moleculer";
import type { Config } from "../env";
import { AUDIT_ACTIONS, canonicalJson, SYSTEM_ACTOR, type AuditActor, type AuditBeginParams, type AuditSpec } from "../../services/common/audit";
import { DependencyUnavailableError } from "../../services/common/errors";
import { uuid } from "../../services/common/ids";
import type { ShopMeta } from "../../services/common/meta";

interface AuditedAction {
	name: string;
	audit?: AuditSpec;
}

/** The caller as the log names it (no name, no token: only who and with which role). */
function actorOf(meta: ShopMeta): AuditActor {
	const user = meta.user;
	return user ? { id: user.id, email: user.email ?? null, role: user.role } : SYSTEM_ACTOR;
}

/** The entity id named by the params (or fixed); null for a creation, whose id is in the answer. */
function idFromParams(spec: AuditSpec, params: Record<string, unknown>): string | null {
	if (spec.id !== undefined && params[spec.id] !== undefined && params[spec.id] !== null) return String(params[spec.id]);
	return spec.fixedId ?? null;
}

function idFromResult(result: unknown): string | null {
	const id = (result as { id?: unknown } | null)?.id;
	return typeof id === "string" || typeof id === "number" ? String(id) : null;
}

/** Fields a save moves even when it sets the values already stored: its time and the record's revision counters. */
const VOLATILE_FIELDS = ["updated_at", "version", "rev"] as const;

/** Whether two readings (canonical JSON) hold the same entity, volatile fields aside. */
function sameEntity(before: string | null, after: string | null): boolean {
	if (before === after) return true;
	if (before === null || after === null) return false;
	const strip = (json: string): string => {
		const value = JSON.parse(json) as unknown;
		if (value === null || typeof value !== "object" || Array.isArray(value)) return json;
		const rest = { ...(value as Record<string, unknown>) };
		for (const f of VOLATILE_FIELDS) delete rest[f];
		return canonicalJson(rest);
	};
	return strip(before) === strip(after);
}

/**
 * Runs audited writes of one entity one at a time on this node, so that concurrent repeats of a write (twenty
 * clicks on "delivered", ten refunds at once) each read the entity as the previous one left it: the first is
 * recorded, the rest change nothing and leave no entry. An audited action must not call another audited action
 * on the same entity (it would wait for itself).
 */
class EntityQueue {
	private readonly tails = new Map<string, Promise<void>>();

	async run<T>(key: string, work: () => Promise<T>): Promise<T> {
		const previous = this.tails.get(key) ?? Promise.resolve();
		let release = (): void => undefined;
		const mine = new Promise<void>(resolve => (release = resolve));
		const tail = previous.then(() => mine);
		this.tails.set(key, tail);
		await previous;
		try {
			return await work();
		} finally {
			release();
			if (this.tails.get(key) === tail) this.tails.delete(key);
		}
	}
}

/** The params of the reader for an entity id. */
function readParams(spec: AuditSpec, entityId: string): Record<string, string> {
	if (spec.fixedId !== undefined && spec.readParam === undefined) return {};
	return { [spec.readParam ?? spec.id ?? "id"]: entityId };
}

/** The entity as stored, as canonical JSON; null when the reader answers 404. Other failures are thrown. */
async function readEntity(ctx: Context, read: string, params: Record<string, string>): Promise<string | null> {
	try {
		return canonicalJson(await ctx.broker.call(read, params, { parentCtx: ctx, meta: { $cache: false } }));
	} catch (err) {
		if ((err as { code?: number }).code === 404) return null;
		throw err;
	}
}

/**
 * Wraps the handler of each action with `audit`: it reads the entity (`read`), stores an intent with the `audit`
 * service (refused with 503 when that is impossible and AUDIT_REQUIRED: a write that cannot be audited does not run),
 * runs the handler, reads the entity again and commits the intent into a chained entry; a failed write drops its
 * intent, and a write that changed nothing leaves no entry. A commit lost to a crash is completed by the audit
 * service's sweep, which reads the entity again (services/audit.service.ts).
 */
export function AuditMiddleware(config: Pick<Config, "auditRequired">): Middleware {
	const queue = new EntityQueue();
	return {
		name: "Audit",
		localAction(next: (ctx: Context) => Promise<unknown>, action: AuditedAction) {
			const spec = action.audit;
			if (!spec) return next;
			const auditedWrite = async (ctx: Context, entityId: string | null): Promise<unknown> => {
				const reader = spec.read && entityId !== null ? { action: spec.read, params: readParams(spec, entityId) } : null;
				const before = reader ? await readEntity(ctx, reader.action, reader.params) : null;
				const intent: AuditBeginParams = {
					intent_id: uuid("audit-"),
					actor: actorOf(ctx.meta as ShopMeta),
					action: action.name,
					entity: spec.entity,
					entity_id: entityId,
					before,
					trace_id: ctx.requestID ?? null,
					read: reader,
				};
				let intentId: string;
				try {
					intentId = (await ctx.broker.call<{ intent_id: string }, AuditBeginParams>(AUDIT_ACTIONS.BEGIN, intent, { parentCtx: ctx })).intent_id;
				} catch (err) {
					throw new DependencyUnavailableError("audit", `${action.name} was not run: its audit entry could not be stored (${(err as Error).message})`);
				}
				const finish = (name: string, p: object): void => {
					ctx.broker.call(name, p, { parentCtx: ctx }).catch((err: Error) => ctx.broker.logger.warn(`audit: ${name} of ${action.name} failed (the sweep completes it): ${err.message}`));
				};
				let result: unknown;
				try {
					result = await next(ctx);
				} catch (err) {
					finish(AUDIT_ACTIONS.ABORT, { intent_id: intentId });
					throw err;
				}
				const id = entityId ?? idFromResult(result);
				let after: string | null;
				try {
					after = spec.read && id !== null ? await readEntity(ctx, spec.read, readParams(spec, id)) : canonicalJson(result ?? null);
				} catch {
					after = canonicalJson(result ?? null);
				}
				// The reader sees nothing before or after (a product of a shop not yet approved): the answer is the after.
				if (after === null && before === null) after = canonicalJson(result ?? null);
				if (sameEntity(before, after)) finish(AUDIT_ACTIONS.ABORT, { intent_id: intentId });
				else await ctx.broker.call(AUDIT_ACTIONS.COMMIT, { intent_id: intentId, entity_id: id, after }, { parentCtx: ctx }).catch((err: Error) => {
					ctx.broker.logger.warn(`audit: commit of ${action.name} failed (the sweep completes it): ${err.message}`);
				});
				return result;
			};

			return async function audited(ctx: Context): Promise<unknown> {
				if (!config.auditRequired && ctx.broker.registry.getActionEndpoints(AUDIT_ACTIONS.BEGIN)?.hasAvailable() !== true) return next(ctx);
				const entityId = idFromParams(spec, (ctx.params ?? {}) as Record<string, unknown>);
				// A creation names its entity only in its answer: nothing to queue behind.
				return entityId === null ? auditedWrite(ctx, null) : queue.run(`${spec.entity}:${entityId}`, () => auditedWrite(ctx, entityId));
			};
		},
	} as unknown as Middleware;
}
