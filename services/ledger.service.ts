/**
 * The `ledger` service: what each shop has earned. A delivered parcel (shipment.delivered) writes one SALE entry
 * per line: the line's amount, the commission (settings marketplace.commission_percent at that moment) and the
 * shop's net; a refunded payment (payment.refunded) writes a REFUND entry reversing each SALE of the order, also
 * for parcels delivered after the refund. Entry ids are unique per line, so redelivered events and retries after a
 * crash write nothing twice. `GET /shops/:id/balance`: the balance (the sum of the entries' net) and the entries.
 */
import type { Context } from "moleculer";
import { DbMixin, DuplicateKeyError, type DbMethods, type Repository } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods } from "../mixins/events.mixin";
import { EVENTS, type DomainEvent, type PaymentRefundedPayload, type ShipmentDeliveredPayload } from "./common/events";
import type { ShopMeta } from "./common/meta";
import { fromCents } from "./common/money";
import { pagingParams, pageWindow } from "./common/paging";
import { defineService, type ServiceThis } from "./common/schema";
import { SettingsCacheMixin, type SettingsCacheVars } from "./settings/client";
import { assertShopManager } from "./shops/client";
import { refundEntry, saleEntry, toApiEntry, totalsOf, type ApiLedgerEntry, type LedgerEntryDoc, type RefundMarkDoc } from "./ledger/model";

interface BalanceParams {
	id: string;
	page: number;
	page_size: number;
}

interface Balance {
	shop_id: string;
	currency: string;
	/** The sum of every entry's net. */
	balance: number;
	/** The sum of the entries' amounts (what customers paid for the shop's delivered lines, less refunds) and commissions. */
	sales: number;
	commission: number;
	entries: ApiLedgerEntry[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
}

interface LedgerMethods extends DbMethods, EventsMethods {
	entries(): Repository<LedgerEntryDoc>;
	write(entry: LedgerEntryDoc): Promise<void>;
	onDelivered(event: DomainEvent): Promise<void>;
	onRefunded(event: DomainEvent): Promise<void>;
}
type LedgerThis = ServiceThis<SettingsCacheVars, LedgerMethods>;

const LedgerService = defineService<SettingsCacheVars, LedgerMethods>({
	name: "ledger",
	mixins: [
		DbMixin({
			ledger_entries: { indexes: [{ fields: ["shop_id"] }, { fields: ["order_id"] }] },
			refund_marks: { indexes: [] },
		}),
		EventsMixin<LedgerThis>({
			handlers: {
				/** A shop's parcel was delivered: a SALE entry per line (once). */
				[EVENTS.SHIPMENT_DELIVERED]: async function (this: LedgerThis, event) {
					await this.onDelivered(event);
				},
				/** An order's payment was given back: its SALE entries are reversed (once). */
				[EVENTS.PAYMENT_REFUNDED]: async function (this: LedgerThis, event) {
					await this.onRefunded(event);
				},
			},
		}),
		SettingsCacheMixin(),
	],

	actions: {
		/** A shop's balance and its entries, newest first, paged: its owner or an admin (403/404 for anyone else). */
		balance: {
			feature: "marketplace",
			auth: "required",
			owned: "shop",
			params: { id: { type: "string", min: 1, max: 100 }, ...pagingParams },
			async handler(this: LedgerThis, ctx: Context<BalanceParams, ShopMeta>): Promise<Balance> {
				await assertShopManager(ctx, ctx.params.id);
				const { id, page, page_size } = ctx.params;
				const all = await this.entries().find({ shop_id: id }, { sort: ["-created_at", "-id"] });
				const totals = totalsOf(all);
				const { offset, limit } = pageWindow(page, page_size);
				return {
					shop_id: id,
					currency: all[0]?.currency ?? "USD",
					balance: fromCents(totals.balance_cents),
					sales: fromCents(totals.sales_cents),
					commission: fromCents(totals.commission_cents),
					entries: all.slice(offset, offset + limit).map(toApiEntry),
					total: all.length,
					page,
					page_size,
					total_pages: Math.ceil(all.length / page_size),
				};
			},
		},

		/** Every entry of every shop (or of one), for the chaos checker and the REPL. */
		all: {
			visibility: "public",
			params: { shop_id: { type: "string", min: 1, max: 100, optional: true } },
			async handler(this: LedgerThis, ctx: Context<{ shop_id?: string }>): Promise<{ rows: LedgerEntryDoc[] }> {
				return { rows: await this.entries().find(ctx.params.shop_id ? { shop_id: ctx.params.shop_id } : {}, { sort: ["created_at", "id"] }) };
			},
		},
	},

	methods: {
		/** The entries collection. */
		entries(this: LedgerThis): Repository<LedgerEntryDoc> {
			return this.collection<LedgerEntryDoc>("ledger_entries");
		},

		/** Inserts an entry; one already written (its id is unique) is left as it is. */
		async write(this: LedgerThis, entry: LedgerEntryDoc): Promise<void> {
			try {
				await this.entries().insert(entry);
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
		},

		/** SALE entries for the parcel's lines; their REFUNDs too when the order was refunded first. */
		async onDelivered(this: LedgerThis, event: DomainEvent): Promise<void> {
			const e = event as unknown as ShipmentDeliveredPayload;
			if (typeof e.order_id !== "string" || typeof e.shop_id !== "string" || !Array.isArray(e.lines)) return;
			const now = new Date().toISOString();
			const percent = this.settingsCache.settings.marketplace.commission_percent;
			const sales = e.lines.map((l, index) =>
				saleEntry({ ...l, index, shop_id: e.shop_id, order_id: e.order_id, shipment_id: e.shipment_id, currency: e.currency }, percent, now),
			);
			for (const sale of sales) await this.write(sale);
			// A refund that came first left its mark; the mark is written before the refund reads the sales, so one of
			// the two always sees the other (and the REFUND's unique id keeps it single).
			if (!(await this.collection<RefundMarkDoc>("refund_marks").findById(e.order_id))) return;
			for (const sale of await this.entries().find({ order_id: e.order_id, shipment_id: e.shipment_id, kind: "SALE" })) await this.write(refundEntry(sale, now));
		},

		/** Marks the order refunded, then reverses every SALE written for it. */
		async onRefunded(this: LedgerThis, event: DomainEvent): Promise<void> {
			const e = event as unknown as PaymentRefundedPayload;
			if (typeof e.order_id !== "string") return;
			const now = new Date().toISOString();
			try {
				await this.collection<RefundMarkDoc>("refund_marks").insert({ id: e.order_id, at: now });
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
			for (const sale of await this.entries().find({ order_id: e.order_id, kind: "SALE" })) await this.write(refundEntry(sale, now));
		},
	},
});

export default LedgerService;
