/**
 * The `vouchers` service: vouchers (percent, fixed, free shipping; validity window, minimum subtotal, total and
 * per-customer limits, scope) and their redemptions. Admins manage them; the cart asks `quote` whether a code applies
 * and what it covers; the checkout saga `redeem`s a voucher before payment and `release`s it when the order fails.
 * Each order's use is a row of its own in `redemptions`, counted on the voucher by one conditional update, so a
 * voucher with N uses is never used N + 1 times, whatever the concurrency, crashes or retries (services/vouchers/model.ts).
 */
import type { Context } from "moleculer";
import { configOf } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods, type Repository } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import type { VoucherUsePayload } from "./common/events";
import { ConflictError, NotFoundError } from "./common/errors";
import { created, type ShopMeta } from "./common/meta";
import { pageWindow, toPage, type Page } from "./common/paging";
import { defineService, type ServiceThis } from "./common/schema";
import { applicability, customerKey, emptyCounters, normalizeCode, toBillVoucher, toPublicVoucher, type PublicVoucher, type RedemptionDoc, type VoucherDoc } from "./vouchers/model";
import { customerCounts, holders, markCustomerCounted, migrateLegacy, redeem, release, type RedemptionStore } from "./vouchers/redemptions";
import { VoucherExistsError, VoucherNotApplicableError } from "./vouchers/errors";
import {
	codeParams,
	createParams,
	listParams,
	quoteParams,
	redeemParams,
	releaseParams,
	toDocFields,
	updateParams,
	type CodeParams,
	type CreateParams,
	type ListParams,
	type QuoteParams,
	type RedeemParams,
	type ReleaseParams,
	type UpdateParams,
} from "./vouchers/params";
import type { QuoteAnswer, RedeemAnswer, ReleaseAnswer } from "./vouchers/client";
import { DEMO_VOUCHERS } from "./vouchers/demo";

interface VouchersMethods extends DbMethods, EventsMethods {
	vouchers(): Repository<VoucherDoc>;
	redemptionStore(ctx: Context | null): RedemptionStore;
	existing(code: string): Promise<VoucherDoc>;
	seedDemoVouchers(): Promise<number>;
	relay(collection: string, id: string, event: StagedEvent): Promise<void>;
}
type VouchersThis = ServiceThis<object, VouchersMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** The mark, in the `seeds` collection, that the demo vouchers were stored once (an admin may then delete them for good). */
const DEMO_SEED_ID = "demo-vouchers";

const VouchersService = defineService<object, VouchersMethods>({
	name: "vouchers",
	mixins: [
		DbMixin({ vouchers: { indexes: [{ fields: ["active"] }] }, redemptions: { indexes: [{ fields: ["code"] }] }, seeds: {} }),
		// Events are staged in redemption rows; `vouchers` for those that documents written before the rows still hold.
		EventsMixin({ stagedIn: ["redemptions", "vouchers"] }),
	],

	actions: {
		/** Creates a voucher (admin); 409 when the code exists in any case. */
		create: {
			audit: { entity: "voucher", id: "code", read: "vouchers.get" },
			roles: ["admin"],
			params: createParams,
			async handler(this: VouchersThis, ctx: Ctx<CreateParams>): Promise<PublicVoucher> {
				const code = normalizeCode(ctx.params.code);
				const now = new Date().toISOString();
				const doc: VoucherDoc = { id: code, ...toDocFields(ctx.params, null), ...emptyCounters(), created_at: now, updated_at: now };
				try {
					await this.vouchers().insert(doc);
				} catch (err) {
					if (err instanceof DuplicateKeyError) throw new VoucherExistsError(code);
					throw err;
				}
				created(ctx, `/api/v1/admin/vouchers/${encodeURIComponent(code)}`);
				return toPublicVoucher(doc);
			},
		},

		/** Every voucher, newest first, paginated (admin). */
		list: {
			roles: ["admin"],
			params: listParams,
			async handler(this: VouchersThis, ctx: Ctx<ListParams>): Promise<Page<PublicVoucher>> {
				const page = ctx.params.page ?? 1;
				const pageSize = ctx.params.page_size ?? 20;
				const query = ctx.params.active === undefined ? {} : { active: ctx.params.active };
				const [rows, total] = await Promise.all([this.vouchers().find(query, { sort: ["-created_at"], ...pageWindow(page, pageSize) }), this.vouchers().count(query)]);
				return toPage(rows.map(toPublicVoucher), total, page, pageSize);
			},
		},

		/** One voucher by code, in any case (admin). */
		get: {
			roles: ["admin"],
			params: codeParams,
			async handler(this: VouchersThis, ctx: Ctx<CodeParams>): Promise<PublicVoucher> {
				return toPublicVoucher(await this.existing(ctx.params.code));
			},
		},

		/** Changes a voucher's fields (admin); its uses and redemptions are never touched. */
		update: {
			audit: { entity: "voucher", id: "code", read: "vouchers.get" },
			roles: ["admin"],
			params: updateParams,
			async handler(this: VouchersThis, ctx: Ctx<UpdateParams>): Promise<PublicVoucher> {
				const before = await this.existing(ctx.params.code);
				const fields = toDocFields(ctx.params, before);
				const set: Record<string, unknown> = { ...fields, updated_at: new Date().toISOString() };
				if (before.max_uses_per_customer === null && fields.max_uses_per_customer !== null) {
					// A per-customer limit set now counts the uses made before it too (the voucher kept no counters until now).
					const store = this.redemptionStore(ctx);
					const counted = await customerCounts(store, before);
					set.per_customer = counted.counts;
					const n = await this.vouchers().updateWhere({ id: before.id, max_uses_per_customer: null }, { $set: set });
					if (n !== 1) throw new ConflictError(`voucher '${before.id}' changed meanwhile; send the change again`, "VOUCHER_CHANGED", { code: before.id });
					await markCustomerCounted(store, counted.rowIds);
					return toPublicVoucher(await this.existing(before.id));
				}
				// Only the fields are set: redemptions racing this write keep their counts (their condition names the limits read).
				const after = await this.vouchers().updateById(before.id, { $set: set });
				if (!after) throw new NotFoundError("voucher", before.id);
				return toPublicVoucher(after);
			},
		},

		/** Deletes a voucher (admin); orders that redeemed it keep their discount. */
		remove: {
			audit: { entity: "voucher", id: "code", read: "vouchers.get" },
			roles: ["admin"],
			params: codeParams,
			async handler(this: VouchersThis, ctx: Ctx<CodeParams>): Promise<PublicVoucher> {
				const doc = await this.existing(ctx.params.code);
				await this.vouchers().removeById(doc.id);
				return toPublicVoucher(doc);
			},
		},

		/** Whether a code applies to these cart lines for this customer now: the voucher and the lines it covers, else 404/422. */
		quote: {
			visibility: "public",
			params: quoteParams,
			async handler(this: VouchersThis, ctx: Ctx<QuoteParams>): Promise<QuoteAnswer> {
				const doc = await this.existing(ctx.params.code);
				const verdict = applicability(doc, ctx.params.lines, ctx.params.currency, customerKey(ctx.params.user_id), new Date());
				if (!verdict.ok) throw new VoucherNotApplicableError(doc.id, verdict.reason, verdict.message);
				return { voucher: toBillVoucher(doc), eligible: verdict.eligible };
			},
		},

		/**
		 * Uses the voucher once for an order (the checkout saga's step before payment); a repeat for the same order
		 * answers the same redemption. 409 VOUCHER_UNAVAILABLE when it can no longer be used (nothing is counted).
		 */
		redeem: {
			visibility: "public",
			params: redeemParams,
			async handler(this: VouchersThis, ctx: Ctx<RedeemParams>): Promise<RedeemAnswer> {
				const { order_id, user_id, discount_cents } = ctx.params;
				return redeem(this.redemptionStore(ctx), normalizeCode(ctx.params.code), order_id, customerKey(user_id), discount_cents);
			},
		},

		/** Gives an order's use back (the saga's compensation); idempotent, and a later redeem of that order uses nothing. */
		release: {
			visibility: "public",
			params: releaseParams,
			async handler(this: VouchersThis, ctx: Ctx<ReleaseParams>): Promise<ReleaseAnswer> {
				return release(this.redemptionStore(ctx), normalizeCode(ctx.params.code), ctx.params.order_id);
			},
		},

		/** Uses and live redemptions per voucher, for the crash test's invariants. */
		redemptions: {
			visibility: "public",
			params: { code: { ...codeParams.code, optional: true } },
			async handler(this: VouchersThis, ctx: Ctx<{ code?: string }>): Promise<{ rows: Array<{ code: string; uses: number; order_ids: string[] }> }> {
				const query = ctx.params.code ? { id: normalizeCode(ctx.params.code) } : {};
				const docs = await this.vouchers().find(query, { limit: 1000 });
				const store = this.redemptionStore(ctx);
				return { rows: await Promise.all(docs.map(async d => ({ code: d.id, uses: d.uses, order_ids: await holders(store, d) }))) };
			},
		},
	},

	methods: {
		/** The vouchers collection. */
		vouchers(this: VouchersThis): Repository<VoucherDoc> {
			return this.collection<VoucherDoc>("vouchers");
		},

		/** The voucher with this code (any case), or a 404 VOUCHER_NOT_FOUND. */
		async existing(this: VouchersThis, code: string): Promise<VoucherDoc> {
			const doc = await this.vouchers().findById(normalizeCode(code));
			if (!doc) throw new NotFoundError("voucher", normalizeCode(code));
			return doc;
		},

		/** What redeem and release (vouchers/redemptions.ts) use of the service. */
		redemptionStore(this: VouchersThis, ctx: Context | null): RedemptionStore {
			return {
				vouchers: this.vouchers(),
				rows: this.collection<RedemptionDoc>("redemptions"),
				stage: (event, payload) => this.stageEvent<VoucherUsePayload>(ctx, event, payload) as unknown as StagedEvent,
				relay: (id, event) => this.relay("redemptions", id, event),
				warn: message => this.logger.warn(message),
			};
		},

		/** Publishes an event stored with the change it reports; if this fails, the relay's sweep publishes it later. */
		async relay(this: VouchersThis, collection: string, id: string, event: StagedEvent): Promise<void> {
			await this.publishStaged(collection, id, [event]).catch(err => this.logger.warn(`Event of ${collection} ${id} left for the relay: ${String(err)}`));
		},

		/**
		 * Stores the demo vouchers that are missing, once per store: fixed codes (nodes starting at once insert each
		 * once), then the mark, so that a restart neither duplicates them nor brings back one an admin deleted or
		 * resets one an admin changed. A start that stopped half-way finishes the job at the next start.
		 */
		async seedDemoVouchers(this: VouchersThis): Promise<number> {
			const seeds = this.collection<{ id: string; at: string }>("seeds");
			if (await seeds.findById(DEMO_SEED_ID)) return 0;
			const now = new Date().toISOString();
			let n = 0;
			for (const p of DEMO_VOUCHERS) {
				const code = normalizeCode(p.code);
				if (await this.vouchers().findById(code)) continue;
				const doc: VoucherDoc = { id: code, ...toDocFields(p, null), ...emptyCounters(), created_at: now, updated_at: now };
				try {
					await this.vouchers().insert(doc);
					n++;
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
				}
			}
			try {
				await seeds.insert({ id: DEMO_SEED_ID, at: now });
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
			return n;
		},
	},

	async started(this: VouchersThis) {
		const moved = await migrateLegacy(this.redemptionStore(null));
		if (moved > 0) this.logger.info(`Redemptions of ${moved} voucher(s) moved into rows of their own`);
		if (!configOf(this).seedDemoData) return;
		const n = await this.seedDemoVouchers();
		if (n > 0) this.logger.info(`Demo vouchers stored: ${n} (${DEMO_VOUCHERS.map(v => v.code).join(", ")})`);
	},
});

export default VouchersService;
