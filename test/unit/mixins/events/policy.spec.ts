import {
	busToken,
	consumerGroup,
	consumerName,
	createMessage,
	deadLetterId,
	decideAfterFailure,
	errorText,
	eventSubject,
	processedKey,
	serviceOfDeadLetter,
	streamName,
} from "../../../../mixins/events/policy";

describe("event policy", () => {
	it("retries with doubling delays and dead-letters after the last attempt", () => {
		const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 10_000 };
		expect([1, 2, 3, 4].map(a => decideAfterFailure(a, policy))).toEqual([
			{ kind: "retry", delayMs: 100 },
			{ kind: "retry", delayMs: 200 },
			{ kind: "retry", delayMs: 400 },
			{ kind: "retry", delayMs: 800 },
		]);
		expect(decideAfterFailure(5, policy)).toEqual({ kind: "dead-letter" });
		expect(decideAfterFailure(9, policy)).toEqual({ kind: "dead-letter" });
	});

	it("caps the back-off delay", () => {
		expect(decideAfterFailure(20, { attempts: 50, baseDelayMs: 100, maxDelayMs: 5000 })).toEqual({ kind: "retry", delayMs: 5000 });
	});

	it("stamps event_id and occurred_at on the payload of a new message", () => {
		const now = new Date("2026-01-02T03:04:05.000Z");
		const m = createMessage("orders", "order.created", { order_id: "ord_1" }, { behavior: { x: 1 } }, now, "e-1");
		expect(m).toEqual({
			event_id: "e-1",
			name: "order.created",
			source: "orders",
			event: { order_id: "ord_1", event_id: "e-1", occurred_at: "2026-01-02T03:04:05.000Z" },
			meta: { behavior: { x: 1 } },
			created_at: "2026-01-02T03:04:05.000Z",
			trace_id: null,
		});
	});

	it("gives a service one group and each node of a fanout service its own", () => {
		expect(consumerGroup("notifications", "service", "n1")).toBe("notifications");
		expect(consumerGroup("search", "node", "n1")).toBe("search.n1");
		expect(processedKey("search.n1", "e-1")).toBe("search.n1|e-1");
	});

	it("builds NATS subjects, stream and consumer names from any namespace", () => {
		expect(busToken("t-1.5 x*>")).toBe("t-1_5_x__");
		expect(eventSubject("t-1.5", "product.price-changed")).toBe("t-1_5.events.product.price-changed");
		expect(streamName("shop.flow")).toBe("EVENTS_shop_flow");
		expect(consumerName("search.node-1", "product.created")).toBe("search_node-1__product_created");
	});

	it("names the owning service in a dead-letter id", () => {
		const id = deadLetterId("notifications");
		expect(id).toMatch(/^dl_notifications_[0-9a-f]{16}$/);
		expect(serviceOfDeadLetter(id)).toBe("notifications");
		expect(serviceOfDeadLetter("dl_my_svc_0123456789abcdef")).toBe("my_svc");
		expect(serviceOfDeadLetter("nope")).toBeNull();
	});

	it("keeps the error's name and message but no stack", () => {
		const err = new TypeError("bad thing");
		expect(errorText(err)).toBe("TypeError: bad thing");
		expect(errorText("x".repeat(3000))).toHaveLength(2000);
	});
});
