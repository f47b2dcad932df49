import { resolvePayment, resolveShippingAddress } from "../../../../services/users/checkout";
import { newUser, type UserDoc } from "../../../../services/users/model";

const user: UserDoc = {
	...newUser("ann@example.com", "Ann", "hash", "customer"),
	id: "u1",
	addresses: [{ id: "addr_1", label: "home", street: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" }],
	payment_methods: [{ id: "pm_1", token: "card-456", brand: "visa", last4: "4242", created_at: "2026-01-01T00:00:00Z" }],
};

describe("resolveShippingAddress", () => {
	it("uses a saved address by id", () => {
		expect(resolveShippingAddress(user, "addr_1")).toMatchObject({ id: "addr_1", city: "Springfield" });
	});

	it("answers 404 for an unknown saved id", () => {
		expect(() => resolveShippingAddress(user, "addr_nope")).toThrow(expect.objectContaining({ code: 404 }));
	});

	it("takes one string as the street line and an object as the address", () => {
		expect(resolveShippingAddress(user, "123 Main St")).toMatchObject({ id: null, street: "123 Main St" });
		expect(resolveShippingAddress(user, { street: "9 Elm", city: "Shelbyville" })).toMatchObject({ street: "9 Elm", city: "Shelbyville", country: null });
	});
});

describe("resolvePayment", () => {
	it("uses a saved method by id and a one-off token otherwise", () => {
		expect(resolvePayment(user, "pm_1")).toEqual({ method_id: "pm_1", token: "card-456", brand: "visa", last4: "4242" });
		expect(resolvePayment(user, "card-declined")).toEqual({ method_id: null, token: "card-declined", brand: null, last4: null });
	});

	it("answers 404 for an unknown saved id and 422 for a card number or a malformed token", () => {
		expect(() => resolvePayment(user, "pm_nope")).toThrow(expect.objectContaining({ code: 404 }));
		expect(() => resolvePayment(user, "4111111111111111")).toThrow(expect.objectContaining({ code: 422, type: "CARD_NUMBER_REFUSED" }));
		expect(() => resolvePayment(user, "no spaces allowed")).toThrow(expect.objectContaining({ code: 422 }));
	});
});
