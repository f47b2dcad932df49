/**
 * The `audit` service: the append-only, hash-chained log of every admin and seller write. An audited action (one
 * that declares `audit`, see services/common/audit.ts) is wrapped by config/middlewares/audit.ts: an intent is
 * stored here before the write runs (no intent, no write), and completed into a chain entry when the write
 * succeeded. An intent its writer never completed (a crash) is resolved here by reading the entity again.
 * Admins read the log with `GET /admin/audit` and check the chain with `GET /admin/audit/verify`.
 */
import type { Context } from "moleculer";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { canonicalJson, type AuditBeginParams, type AuditCommitParams } from "./common/audit";
import { NotFoundError } from "./common/errors";
import type { AuthUser, ShopMeta } from "./common/meta";
import { pageWindow, toPage, type Page } from "./common/paging";
import { defineService, type ServiceThis } from "./common/schema";
import type { AuditEntry } from "./audit/chain";
import { AuditStore, type HeadDoc, type IntentDoc, type VerifyResult } from "./audit/store";
import { beginParams, commitParams, listParams, sweepParams, toApiEntry, type ApiAuditEntry, type ListParams, type SweepParams } from "./audit/params";

/** How old an intent must be before the sweep resolves it (longer than any write may take). */
const STALE_INTENT_MS = 60_000;
const SWEEP_INTERVAL_MS = 15_000;
const SWEEP_BATCH = 100;

export interface SweepResult {
	/** Intents completed into entries (the entity changed, or could not be read back: outcome unknown). */
	recorded: number;
	/** Intents dropped: the entity is as it was before, so the write did not happen. */
	discarded: number;
	/** Intents left for a later sweep (the entity could not be read). */
	pending: number;
}

interface AuditMethods extends DbMethods {
	store(): AuditStore;
	resolveIntent(ctx: Context | null, intent: IntentDoc): Promise<"recorded" | "discarded" | "pending">;
	sweepIntents(ctx: Context | null, olderThanMs: number): Promise<SweepResult>;
}
interface AuditVars {
	$store: AuditStore;
	$sweepTimer?: NodeJS.Timeout;
	$sweeping?: Promise<SweepResult>;
}
type AuditThis = ServiceThis<AuditVars, AuditMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const AuditService = defineService<AuditVars, AuditMethods>({
	name: "audit",
	mixins: [
		DbMixin({
			entries: {
				indexes: [
					{ fields: ["seq"], unique: true },
					{ fields: ["intent_id"], unique: true },
					{ fields: ["entity"] },
					{ fields: ["action"] },
					{ fields: ["actor.id"] },
				],
			},
			intents: { indexes: [{ fields: ["created_at"] }] },
			head: {},
		}),
	],

	actions: {
		/** Stores the intent of an audited write before it runs (called by the audit middleware). */
		begin: {
			visibility: "public",
			params: beginParams,
			async handler(this: AuditThis, ctx: Ctx<AuditBeginParams>): Promise<{ intent_id: string }> {
				return { intent_id: await this.store().begin(ctx.params) };
			},
		},

		/** Completes the intent of a write that succeeded into the chain; idempotent. */
		commit: {
			visibility: "public",
			params: commitParams,
			async handler(this: AuditThis, ctx: Ctx<AuditCommitParams>): Promise<{ seq: number; hash: string }> {
				const store = this.store();
				const intent = await store.intents.findById(ctx.params.intent_id);
				if (!intent) {
					const done = await store.entries.findOne({ intent_id: ctx.params.intent_id });
					if (done) return { seq: done.seq, hash: done.hash };
					throw new NotFoundError("audit intent", ctx.params.intent_id);
				}
				const entry = await store.complete(intent, ctx.params.entity_id, ctx.params.after, false);
				return { seq: entry.seq, hash: entry.hash };
			},
		},

		/** Drops the intent of a write that failed. */
		abort: {
			visibility: "public",
			params: { intent_id: { type: "string", min: 1, max: 100 } },
			async handler(this: AuditThis, ctx: Ctx<{ intent_id: string }>): Promise<{ aborted: boolean }> {
				return { aborted: await this.store().intents.removeById(ctx.params.intent_id) };
			},
		},

		/** A page of the log, newest first, filtered by actor (id or email), entity (and its id) and action (admin). */
		list: {
			roles: ["admin"],
			params: listParams,
			async handler(this: AuditThis, ctx: Ctx<ListParams>): Promise<Page<ApiAuditEntry>> {
				const { actor, entity, entity_id, action, page, page_size } = ctx.params;
				const query: Record<string, unknown> = {};
				if (actor) query.$or = [{ "actor.id": actor }, { "actor.email": actor.toLowerCase() }];
				if (entity) query.entity = entity;
				if (entity_id) query.entity_id = entity_id;
				if (action) query.action = action;
				const entries = this.store().entries;
				const [rows, total] = await Promise.all([entries.find(query, { sort: ["-seq"], ...pageWindow(page, page_size) }), entries.count(query)]);
				return toPage(rows.map(toApiEntry), total, page, page_size);
			},
		},

		/** Checks the whole chain and names its first broken link (admin). */
		verify: {
			roles: ["admin"],
			async handler(this: AuditThis): Promise<VerifyResult> {
				return this.store().verify();
			},
		},

		/** Resolves the intents older than `older_than_ms` that their writers never completed (timer, REPL, tests). */
		sweep: {
			visibility: "public",
			params: sweepParams,
			async handler(this: AuditThis, ctx: Ctx<SweepParams>): Promise<SweepResult> {
				return this.sweepIntents(ctx, ctx.params.older_than_ms ?? STALE_INTENT_MS);
			},
		},
	},

	methods: {
		/** The log's collections. */
		store(this: AuditThis): AuditStore {
			return this.$store;
		},

		/**
		 * Reads the entity of an intent as its writer's caller would: changed since `before` means the write happened
		 * (recorded with what is stored now), unchanged, or as a later entry left it, means it did not (dropped). Without a reader the outcome is
		 * unknown and the intent is recorded with `after: null`, so that no write goes unrecorded.
		 */
		async resolveIntent(this: AuditThis, ctx: Context | null, intent: IntentDoc): Promise<"recorded" | "discarded" | "pending"> {
			const store = this.store();
			if (!intent.read) {
				await store.complete(intent, null, null, true);
				return "recorded";
			}
			const user: AuthUser | undefined =
				intent.actor.role === "system" ? undefined : { id: intent.actor.id, email: intent.actor.email ?? "", name: "", role: intent.actor.role as AuthUser["role"] };
			let current: string | null;
			try {
				const opts = { meta: { user, $cache: false }, ...(ctx ? { requestID: ctx.requestID ?? undefined } : {}) };
				current = canonicalJson(await this.broker.call(intent.read.action, intent.read.params, opts));
			} catch (err) {
				if ((err as { code?: number }).code !== 404) {
					this.logger.warn(`audit: intent ${intent.id} (${intent.action}) not resolved yet: ${(err as Error).message}`);
					return "pending";
				}
				current = null;
			}
			// Unchanged, or changed exactly as a later entry of the same entity reports, from the same before (another
			// writer's change, made while this one failed and its abort was lost): this write did not happen.
			const explained = await store.entries.count({
				entity: intent.entity,
				entity_id: intent.entity_id,
				at: { $gte: intent.created_at },
				before: intent.before,
				after: current,
			});
			if (current === intent.before || explained > 0) {
				await store.intents.removeById(intent.id);
				return "discarded";
			}
			await store.complete(intent, null, current, true);
			return "recorded";
		},

		/** Resolves stale intents, one sweep at a time per node. */
		async sweepIntents(this: AuditThis, ctx: Context | null, olderThanMs: number): Promise<SweepResult> {
			if (this.$sweeping) await this.$sweeping.catch(() => undefined);
			const run = (async (): Promise<SweepResult> => {
				const result: SweepResult = { recorded: 0, discarded: 0, pending: 0 };
				const stale = await this.store().staleIntents(new Date(Date.now() - olderThanMs), SWEEP_BATCH);
				for (const intent of stale) result[await this.resolveIntent(ctx, intent)]++;
				return result;
			})();
			this.$sweeping = run;
			try {
				return await run;
			} finally {
				if (this.$sweeping === run) this.$sweeping = undefined;
			}
		},
	},

	created(this: AuditThis) {
		this.$store = new AuditStore(this.collection<AuditEntry>("entries"), this.collection<IntentDoc>("intents"), this.collection<HeadDoc>("head"));
	},

	started(this: AuditThis) {
		this.$sweepTimer = setInterval(() => {
			this.sweepIntents(null, STALE_INTENT_MS).catch((err: Error) => this.logger.warn(`audit sweep failed: ${err.message}`));
		}, SWEEP_INTERVAL_MS);
		this.$sweepTimer.unref();
	},

	async stopped(this: AuditThis) {
		clearInterval(this.$sweepTimer);
		await this.$sweeping?.catch(() => undefined);
	},
});

export default AuditService;
