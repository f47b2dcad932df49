/**
 * The `notifications` service: one notification per order milestone a customer cares about (placed, payment failed,
 * shipped, delivered, cancelled, refunded; notifications/messages.ts), never twice, on the customer's channel (email
 * unless they chose sms or push; the channels switched on in their preferences once they saved some, none when they
 * switched all off), and `notification.sent`.
 * Notices without a customer (inventory.low) are stored for the admins: listed to admins, never to customers.
 * Sellers: each shop's owner is told once when an order holding its lines is paid and once when it is cancelled,
 * naming those lines alone, on the owner's channels (notifications/sellers.ts, notifications/seller-methods.ts).
 * Each user keeps their newest NOTIFICATIONS_KEEP_PER_USER notifications of the last NOTIFICATIONS_RETENTION_DAYS
 * (pruned in the background, see notifications/retention.ts).
 */
import type { Context } from "moleculer";
import { Errors } from "moleculer";
import { configOf } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods, type DomainEventHandler, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS, type DomainEvent, type NotificationSentPayload } from "./common/events";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { NOTIFIED_EVENTS, draftFor, milestoneOf, notificationId, type NotificationDraft, type ShipmentInfo } from "./notifications/messages";
import { toPublicNotification, type NotificationDoc, type PublicNotification } from "./notifications/model";
import { ChannelCache, type Channel } from "./notifications/channel-cache";
import { NotificationRetention } from "./notifications/retention";
import { SELLER_SPLITS, SellerMethods, type SellerNotifying } from "./notifications/seller-methods";
import { sellerEventOf, type SellerDraft, type SellerSplitDoc } from "./notifications/sellers";
import { channelsToUse, fetchPreferences } from "./settings/client";

interface ListParams {
	page?: number;
	page_size?: number;
}
interface NotificationPage {
	rows: PublicNotification[];
	total: number;
	page: number;
	page_size: number;
}

interface NotificationsMethods extends DbMethods, EventsMethods, SellerNotifying {
	notify(ctx: Context, eventName: string, event: DomainEvent): Promise<void>;
	deliver(ctx: Context, id: string, draft: NotificationDraft | SellerDraft, eventName: string, event: DomainEvent): Promise<void>;
	channelOf(ctx: Context, userId: string): Promise<Channel>;
	channelsOf(ctx: Context, userId: string): Promise<Channel[]>;
	askChannel(ctx: Context, userId: string): Promise<Channel>;
	shipmentOf(ctx: Context, orderId: string): Promise<ShipmentInfo>;
}
interface NotificationsVars {
	channels: ChannelCache;
	retention: NotificationRetention;
}
type NotificationsThis = ServiceThis<NotificationsVars, NotificationsMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** Every consumed event goes through `notify`. */
const handlers = Object.fromEntries(
	NOTIFIED_EVENTS.map(name => [
		name,
		async function (this: NotificationsThis, event: DomainEvent, ctx: Context): Promise<void> {
			await this.notify(ctx, name, event);
		},
	]),
) as Record<(typeof NOTIFIED_EVENTS)[number], DomainEventHandler<NotificationsThis>>;

const NotificationsService = defineService<NotificationsVars, NotificationsMethods>({
	name: "notifications",
	mixins: [
		// Admins' notices have user_id null, so user_id serves every list; no index on the two-valued `audience`,
		// whose NeDB buckets would be scanned on every update and removal (MongoDB gets user_id + occurred_at).
		// seller_splits: each order's lines per shop (notifications/seller-methods.ts), expired with the notifications.
		DbMixin({ notifications: { indexes: [{ fields: ["user_id", "occurred_at"] }] }, [SELLER_SPLITS]: { indexes: [{ fields: ["created_at"] }] } }),
		// Longer back-off than the default (about 30 s in all): a short `users` outage should delay, not dead-letter.
		EventsMixin<NotificationsThis>({ handlers, stagedIn: ["notifications"], retry: { attempts: 8, baseDelayMs: 250 } }),
	],

	actions: {
		/** The caller's notifications, newest event first; never anyone else's (admins also see the notices for admins). */
		list: {
			auth: "required",
			params: {
				page: { type: "number", integer: true, min: 1, max: 100_000, optional: true, convert: true },
				page_size: { type: "number", integer: true, min: 1, max: 100, optional: true, convert: true },
			},
			async handler(this: NotificationsThis, ctx: Ctx<ListParams>): Promise<NotificationPage> {
				const user = requireUser(ctx.meta);
				// Notices for the admins are exactly those without a user (audience "admins").
				const query = user.role === "admin" ? { user_id: { $in: [user.id, null] } } : { user_id: user.id };
				const page = ctx.params.page ?? 1;
				const pageSize = ctx.params.page_size ?? 20;
				const coll = this.collection<NotificationDoc>("notifications");
				const [rows, total] = await Promise.all([
					coll.find(query, { sort: ["-occurred_at", "-created_at"], limit: pageSize, offset: (page - 1) * pageSize }),
					coll.count(query),
				]);
				return { rows: rows.map(toPublicNotification), total, page, page_size: pageSize };
			},
		},
	},

	methods: {
		...SellerMethods,

		/** The customer's (or admins') notification of an event, then the sellers' of an order paid or cancelled. */
		async notify(this: NotificationsThis, ctx: Context, eventName: string, event: DomainEvent): Promise<void> {
			const shipment = milestoneOf(eventName, event) === "shipped" && typeof event.order_id === "string" ? await this.shipmentOf(ctx, event.order_id) : {};
			const draft = draftFor(eventName, event, shipment);
			if (draft) await this.deliver(ctx, notificationId(draft, event.event_id), draft, eventName, event);
			if (eventName === EVENTS.ORDER_CREATED) await this.recordSellers(ctx, event);
			const sellerEvent = sellerEventOf(eventName, event);
			if (sellerEvent) await this.notifySellers(ctx, sellerEvent, eventName, event);
		},

		/**
		 * Stores one notification, with its `notification.sent` staged in the same write, then publishes that. The id
		 * names what is told (an order's milestone, a shop's part of an order), so a second delivery, or a second event
		 * standing for the same thing, is refused as a duplicate by the insert and nothing else happens.
		 */
		async deliver(this: NotificationsThis, ctx: Context, id: string, draft: NotificationDraft | SellerDraft, eventName: string, event: DomainEvent): Promise<void> {
			const coll = this.collection<NotificationDoc>("notifications");
			let channels: Channel[] = ["email"];
			try {
				if (draft.user_id) channels = await this.channelsOf(ctx, draft.user_id);
			} catch (err) {
				// `users` or `settings` cannot answer: a delivery of an event already handled is done all the same.
				if (await coll.findById(id)) return;
				throw err;
			}
			// The user switched every channel off: nothing is sent, nothing stored.
			if (channels.length === 0) return;
			const channel = channels[0];
			const sent: StagedEvent<NotificationSentPayload> = this.stageEvent<NotificationSentPayload>(ctx, EVENTS.NOTIFICATION_SENT, {
				notification_id: id,
				user_id: draft.user_id,
				channel,
				channels,
				source_event: eventName,
				source_event_id: event.event_id,
				order_id: draft.order_id,
			});
			try {
				await coll.insert({
					id,
					...draft,
					channel,
					channels,
					event_name: eventName,
					event_id: event.event_id,
					status: "sent",
					occurred_at: event.occurred_at,
					created_at: new Date().toISOString(),
					pending_events: [sent as unknown as StagedEvent],
				});
			} catch (err) {
				if (err instanceof DuplicateKeyError) return;
				throw err;
			}
			this.retention.touch(draft.user_id);
			await this.publishStaged("notifications", id, [sent as unknown as StagedEvent]);
		},

		/** The user's chosen channel (remembered for NOTIFICATIONS_CHANNEL_CACHE_MS, 30 s by default). */
		channelOf(this: NotificationsThis, ctx: Context, userId: string): Promise<Channel> {
			return this.channels.get(userId, () => this.askChannel(ctx, userId));
		},

		/** The channels a customer's notification goes out on: their saved preferences, else their profile's one channel. */
		async channelsOf(this: NotificationsThis, ctx: Context, userId: string): Promise<Channel[]> {
			const [profile, prefs] = await Promise.all([this.channelOf(ctx, userId), fetchPreferences(ctx, userId)]);
			return prefs ? channelsToUse(prefs, profile) : [profile];
		},

		/** The user's chosen channel from `users`; email when the user is unknown (deleted since). */
		async askChannel(this: NotificationsThis, ctx: Context, userId: string): Promise<Channel> {
			try {
				const user = (await ctx.call("users.get", { id: userId })) as { notification_channel?: Channel };
				return user.notification_channel ?? "email";
			} catch (err) {
				// Only an unknown user falls back to email; `users` being unreachable is retried like any failure.
				if (err instanceof Errors.MoleculerError && err.type === "USER_NOT_FOUND") return "email";
				throw err;
			}
		},

		/** Carrier and tracking number for the "shipped" message; without them (shipping unreachable) it still goes out. */
		async shipmentOf(this: NotificationsThis, ctx: Context, orderId: string): Promise<ShipmentInfo> {
			try {
				const s = (await ctx.call("shipping.getByOrder", { order_id: orderId }, { retries: 0, timeout: 2000 })) as ShipmentInfo | null;
				return { carrier: s?.carrier ?? null, tracking_number: s?.tracking_number ?? null };
			} catch (err) {
				this.logger.debug(`shipment of order ${orderId} unknown, shipped notice without tracking: ${err instanceof Error ? err.message : String(err)}`);
				return {};
			}
		},
	},

	created(this: NotificationsThis) {
		const { retention } = configOf(this);
		this.channels = new ChannelCache(retention.channelCacheMs);
		this.retention = new NotificationRetention(
			this.collection<NotificationDoc>("notifications"),
			{ keepPerUser: retention.notificationsPerUser, maxAgeMs: retention.notificationsMaxAgeMs },
			this.logger,
			this.collection<SellerSplitDoc>(SELLER_SPLITS),
		);
	},

	started(this: NotificationsThis) {
		this.retention.start();
	},

	async stopped(this: NotificationsThis) {
		await this.retention.stop();
	},
});

export default NotificationsService;
