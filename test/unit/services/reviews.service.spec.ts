import type { ServiceBroker } from "moleculer";
import { EventsMixin, type EventsMethods } from "../../../mixins/events.mixin";
import { EVENTS, type DomainEvent } from "../../../services/common/events";
import type { ReviewList } from "../../../services/reviews/model";
import type { CreatedReview } from "../../../services/reviews.service";
import { startShop, type Shop } from "../../helpers/shop";
import { eventually } from "../../helpers/eventually";

const noRetry = { retries: 0 };
const as = (id: string, name = `User ${id}`) => ({ meta: { user: { id, email: `${id}@example.com`, name, role: "customer" } }, retries: 0 });

describe("reviews service", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	let publisher: EventsMethods;
	const events: DomainEvent[] = [];

	beforeAll(async () => {
		shop = await startShop(["products", "reviews"], { NAMESPACE: `t-rev-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		await broker.call("products.seedDemo", {});
		broker.createService({
			name: "review-event-recorder",
			mixins: [EventsMixin({ handlers: { [EVENTS.REVIEW_CREATED]: (e: DomainEvent) => void events.push(e) } })],
		});
		publisher = broker.createService({ name: "delivery-publisher", mixins: [EventsMixin()] }) as unknown as EventsMethods;
		// Stands in for the orders service: the reviews service reads a delivered order's lines from it.
		broker.createService({
			name: "orders",
			actions: {
				get: (ctx: { params: { id: string }; meta: { user?: { id: string } } }) => {
					if (ctx.params.id !== "ord-2" || ctx.meta.user?.id !== "buyer-2") throw new Error("not the owner");
					return { id: "ord-2", items: [{ product_id: "galaxy-a55" }] };
				},
			},
		});
		await broker.waitForServices(["review-event-recorder", "delivery-publisher", "orders"]);
	});
	afterAll(() => shop.stop());

	it("stores a review, answers 201 data with the new average and announces it", async () => {
		const r = await broker.call<CreatedReview, object>("reviews.create", { product_id: "pixel-9", rating: 4, comment: "  Great camera  " }, as("a", "Ann"));
		expect(r).toMatchObject({ product_id: "pixel-9", rating: 4, comment: "Great camera", author: "Ann", average_rating: 4, rating_count: 1, verified_purchase: false });
		expect(r).not.toHaveProperty("user_id");
		await eventually(() =>
			expect(events).toContainEqual(expect.objectContaining({ product_id: "pixel-9", rating: 4, average_rating: 4, rating_count: 1, review_id: r.id })),
		);
	});

	it.each([0, 7, 3.5, "5"])("refuses the rating %p with 422 naming rating", async rating => {
		await expect(broker.call("reviews.create", { product_id: "pixel-9", rating }, as("bad"))).rejects.toMatchObject({
			code: 422,
			data: [expect.objectContaining({ field: "rating" })],
		});
	});

	it("refuses a comment over 2000 characters and stores nothing", async () => {
		await expect(broker.call("reviews.create", { product_id: "iphone-16", rating: 5, comment: "x".repeat(2001) }, as("long"))).rejects.toMatchObject({
			code: 422,
			data: [expect.objectContaining({ field: "comment" })],
		});
		expect(await broker.call("reviews.list", { product_id: "iphone-16" })).toMatchObject({ rows: [], count: 0 });
	});

	it("answers 404 for a review of an unknown product", async () => {
		await expect(broker.call("reviews.create", { product_id: "no-such-product", rating: 5 }, as("c"))).rejects.toMatchObject({ code: 404 });
		await expect(broker.call("reviews.list", { product_id: "no-such-product" }, noRetry)).rejects.toMatchObject({ code: 404 });
	});

	it("allows one review per user and product: the second is 409", async () => {
		await broker.call("reviews.create", { product_id: "galaxy-s24", rating: 5 }, as("d"));
		await expect(broker.call("reviews.create", { product_id: "galaxy-s24", rating: 1 }, as("d"))).rejects.toMatchObject({ code: 409, type: "REVIEW_EXISTS" });
		expect(await broker.call("reviews.list", { product_id: "galaxy-s24" })).toMatchObject({ count: 1, average_rating: 5 });
	});

	it("keeps the average exact when many reviews arrive at once", async () => {
		const ratings = Array.from({ length: 30 }, (_, i) => (i % 5) + 1);
		await Promise.all(ratings.map((rating, i) => broker.call("reviews.create", { product_id: "bose-qc-ultra", rating }, as(`many-${i}`))));
		const list = await broker.call<ReviewList, object>("reviews.list", { product_id: "bose-qc-ultra", page_size: 100 });
		expect(list.count).toBe(30);
		expect(list.rows).toHaveLength(30);
		expect(list.average_rating).toBe(3);
	});

	it("creates one review request per user and product when an order is delivered, and marks the review verified", async () => {
		const delivered = { order_id: "ord-1", user_id: "buyer-1", shipment_id: "shp-1", items: [{ product_id: "jbl-charge-5" }, { product_id: "jbl-charge-5" }] };
		await publisher.publish(null, EVENTS.ORDER_DELIVERED, delivered);
		await publisher.publish(null, EVENTS.ORDER_DELIVERED, { ...delivered, order_id: "ord-1b" });
		await eventually(async () =>
			expect(await broker.call("reviews.requests", {}, as("buyer-1"))).toEqual({ rows: [expect.objectContaining({ product_id: "jbl-charge-5" })] }),
		);
		const r = await broker.call<CreatedReview, object>("reviews.create", { product_id: "jbl-charge-5", rating: 5 }, as("buyer-1"));
		expect(r.verified_purchase).toBe(true);
		expect(await broker.call("reviews.requests", {}, as("buyer-1"))).toEqual({ rows: [] });
	});

	it("reads the lines of a delivered order from orders when the event does not list them", async () => {
		await publisher.publish(null, EVENTS.ORDER_DELIVERED, { order_id: "ord-2", user_id: "buyer-2", shipment_id: "shp-2" });
		await eventually(async () =>
			expect(await broker.call("reviews.requests", {}, as("buyer-2"))).toEqual({ rows: [expect.objectContaining({ product_id: "galaxy-a55", order_id: "ord-2" })] }),
		);
	});
});
